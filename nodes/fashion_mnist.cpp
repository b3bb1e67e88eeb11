// IDX parsing over a gzip stream.
#include "nodes/fashion_mnist.hpp"

#include <zlib.h>

#include <array>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::nodes {

namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;
constexpr std::uint32_t kLabelsMagic = 0x00000801;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

class GzReader {
 public:
  explicit GzReader(std::string path) : path_(std::move(path)) {
    if (!std::filesystem::exists(path_)) {
      throw ConfigError(
          fmt::format("{}: dataset file not found; install Debian's dataset-fashion-mnist or set "
                      "[dataset] path",
                      path_));
    }
    file_.reset(gzopen(path_.c_str(), "rb"));
    if (!file_) throw ConfigError(fmt::format("{}: cannot open the dataset file", path_));
  }

  void read(void* into, std::size_t bytes) {
    auto* p = static_cast<unsigned char*>(into);
    while (bytes > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes, 1u << 30));
      const int n = gzread(file_.get(), p, chunk);
      if (n <= 0) throw ConfigError(fmt::format("{}: truncated or not gzip IDX data", path_));
      p += n;
      bytes -= static_cast<std::size_t>(n);
    }
  }

  std::uint32_t read_u32() {
    std::array<unsigned char, 4> b{};
    read(b.data(), 4);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  }

  void expect_magic(std::uint32_t magic) {
    const std::uint32_t got = read_u32();
    if (got != magic)
      throw ConfigError(fmt::format("{}: not an IDX file of the expected kind (magic {:#x})", path_, got));
  }

  /// Throws unless the data end here (a file longer than its header says is not ours either).
  void expect_end() {
    unsigned char extra = 0;
    if (gzread(file_.get(), &extra, 1) != 0) {
      throw ConfigError(fmt::format("{}: more data than the IDX header announces", path_));
    }
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

std::string file_of(const std::string& dir, Split split, bool images) {
  const char* prefix = split == Split::kTrain ? "train" : "t10k";
  return fmt::format("{}/{}-{}-ubyte.gz", dir, prefix, images ? "images-idx3" : "labels-idx1");
}

}  // namespace

ImageSet load_fashion_mnist(const std::string& dir, Split split, std::int64_t limit, bool whole_file) {
  GzReader images(file_of(dir, split, true));
  GzReader labels(file_of(dir, split, false));
  images.expect_magic(kImagesMagic);
  labels.expect_magic(kLabelsMagic);
  ImageSet set;
  const std::int64_t n_images = images.read_u32();
  set.rows = images.read_u32();
  set.cols = images.read_u32();
  const std::int64_t n_labels = labels.read_u32();
  if (n_images != n_labels) {
    throw ConfigError(fmt::format("{}: {} images but {} labels", images.path(), n_images, n_labels));
  }
  // Bounds before anything is allocated: a corrupt header must not ask for gigabytes.
  if (n_images < 1 || n_images > 10'000'000 || set.rows < 1 || set.rows > 1024 || set.cols < 1 || set.cols > 1024) {
    throw ConfigError(fmt::format("{}: an IDX header of {} images of {}x{} pixels is not a dataset we read",
                                  images.path(), n_images, set.rows, set.cols));
  }
  set.count = limit > 0 ? std::min(limit, n_images) : n_images;
  set.pixels.resize(static_cast<std::size_t>(set.count * set.rows * set.cols));
  set.labels.resize(static_cast<std::size_t>(set.count));
  images.read(set.pixels.data(), set.pixels.size());
  labels.read(set.labels.data(), set.labels.size());
  for (auto label : set.labels) {
    if (label > 9) throw ConfigError(fmt::format("{}: label {} is out of range 0..9", labels.path(), label));
  }
  if (whole_file && set.count == n_images) {
    images.expect_end();
    labels.expect_end();
  }
  return set;
}

void check_fashion_mnist(const std::string& dir) {
  // The whole content, not only the headers: a truncated or corrupt file is refused at
  // validate, not in the middle of a run.
  for (Split split : {Split::kTrain, Split::kTest}) load_fashion_mnist(dir, split, 0, true);
}

}  // namespace cs::nodes
