// Fashion-MNIST from gzip IDX files (Debian's dataset-fashion-mnist), read with zlib.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cs::nodes {

struct ImageSet {
  std::int64_t count = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::uint8_t> pixels;  ///< count x rows x cols, row-major
  std::vector<std::uint8_t> labels;  ///< 0..9
};

enum class Split { kTrain, kTest };

/// Reads the first `limit` images and labels of a split (0 = all). Throws ConfigError naming
/// the file when it is missing or not IDX.
/// With `whole_file`, reading all images (limit 0) also checks that the files end where their
/// headers say.
ImageSet load_fashion_mnist(const std::string& dir, Split split, std::int64_t limit, bool whole_file = false);

/// Checks the four files whole: headers, every image and label there (labels 0..9), and nothing
/// after them. About half a second for the full dataset.
void check_fashion_mnist(const std::string& dir);

}  // namespace cs::nodes
