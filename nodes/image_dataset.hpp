// The image sets a trial trains on: MNIST and Fashion-MNIST (IDX, gzip or not), CIFAR-10 and
// CIFAR-100 (their binary formats), and a generated synthetic set; and the validation split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "study/study_config.hpp"

namespace cs::nodes {

struct ImageSet {
  std::int64_t count = 0;
  std::int64_t channels = 1;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  int classes = 10;
  std::vector<std::uint8_t> pixels;  ///< count x channels x rows x cols, row-major
  std::vector<std::uint8_t> labels;  ///< 0 .. classes - 1
};

enum class Split { kTrain, kTest };

/// One sample's shape as the network sees it, and how many classes it tells apart.
struct InputShape {
  std::int64_t channels = 1;
  std::int64_t rows = 28;
  std::int64_t cols = 28;
  int classes = 10;
};

/// What the network of a study on `config` takes: the dataset's images after resize and channels.
InputShape input_shape(const study::DatasetConfig& config);

/// Reads the first `limit` images and labels of a split (0 = all) from the IDX files in `dir`
/// (train-images-idx3-ubyte[.gz], ...). Throws ConfigError naming the file when it is missing,
/// not IDX, truncated or has a label out of range. With `whole_file`, reading all images
/// (limit 0) also checks that the files end where their headers say.
ImageSet load_idx(const std::string& dir, Split split, std::int64_t limit, bool whole_file = false);

/// The same for CIFAR-10 (data_batch_1..5.bin, test_batch.bin) or CIFAR-100 (train.bin, test.bin;
/// the fine labels), in `dir` or its cifar-10-batches-bin / cifar-100-binary folder.
ImageSet load_cifar(const std::string& dir, bool hundred, Split split, std::int64_t limit, bool whole_file = false);

/// `count` generated 28x28 grey images of 10 classes (a few bright blobs per class, plus noise):
/// learnable, and the same on every rank and run.
ImageSet make_synthetic(Split split, std::int64_t count);

/// The split of the dataset `config` names, `limit` images (0 = all).
ImageSet load_images(const study::DatasetConfig& config, Split split, std::int64_t limit);

/// Reads the dataset's files whole (headers, every image and label, nothing after them), so that
/// a broken file is refused at validate, not in the middle of a run. About half a second for
/// Fashion-MNIST.
void check_dataset(const study::DatasetConfig& config);

/// Moves round(fraction x count) images, chosen by a permutation seeded with `seed` (the same on
/// every rank), out of `train` into the returned validation set. Both keep at least one image.
ImageSet split_validation(ImageSet& train, double fraction, std::uint64_t seed);

}  // namespace cs::nodes
