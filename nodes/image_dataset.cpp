// IDX parsing over a (possibly gzip) stream, CIFAR records, the synthetic set and the split.
#include "nodes/image_dataset.hpp"

#include <zlib.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>

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
                      "[dataset] path (docs/datasets.md)",
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
      if (n <= 0) throw ConfigError(fmt::format("{}: truncated or not IDX data", path_));
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

/// The IDX file of a split: the .gz name when it exists, else the uncompressed one, else the .gz
/// name (whose absence the reader reports).
std::string file_of(const std::string& dir, Split split, bool images) {
  const char* prefix = split == Split::kTrain ? "train" : "t10k";
  const auto plain = fmt::format("{}/{}-{}-ubyte", dir, prefix, images ? "images-idx3" : "labels-idx1");
  if (!std::filesystem::exists(plain + ".gz") && std::filesystem::exists(plain)) return plain;
  return plain + ".gz";
}

void check_labels(const std::vector<std::uint8_t>& labels, int classes, const std::string& path) {
  for (auto label : labels) {
    if (label >= classes) {
      throw ConfigError(fmt::format("{}: label {} is out of range 0..{}", path, label, classes - 1));
    }
  }
}

}  // namespace

ImageSet load_idx(const std::string& dir, Split split, std::int64_t limit, bool whole_file) {
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
  check_labels(set.labels, set.classes, labels.path());
  if (whole_file && set.count == n_images) {
    images.expect_end();
    labels.expect_end();
  }
  return set;
}

namespace {

constexpr std::int64_t kCifarPixels = 3 * 32 * 32;

/// The record files of a CIFAR split, in their order.
std::vector<std::string> cifar_files(const std::string& dir, bool hundred, Split split) {
  namespace fs = std::filesystem;
  const fs::path inner = fs::path(dir) / (hundred ? "cifar-100-binary" : "cifar-10-batches-bin");
  const fs::path base = fs::is_directory(inner) ? inner : fs::path(dir);
  if (hundred) return {(base / (split == Split::kTrain ? "train.bin" : "test.bin")).string()};
  if (split == Split::kTest) return {(base / "test_batch.bin").string()};
  std::vector<std::string> files;
  for (int i = 1; i <= 5; ++i) files.push_back((base / fmt::format("data_batch_{}.bin", i)).string());
  return files;
}

}  // namespace

ImageSet load_cifar(const std::string& dir, bool hundred, Split split, std::int64_t limit, bool whole_file) {
  const std::int64_t label_bytes = hundred ? 2 : 1;  // CIFAR-100: coarse, then fine
  const std::int64_t record = label_bytes + kCifarPixels;
  ImageSet set;
  set.channels = 3;
  set.rows = set.cols = 32;
  set.classes = hundred ? 100 : 10;
  std::vector<char> buffer(static_cast<std::size_t>(record));
  for (const auto& path : cifar_files(dir, hundred, split)) {
    if (!whole_file && limit > 0 && set.count >= limit) break;
    std::error_code ec;
    const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
    if (ec) {
      throw ConfigError(
          fmt::format("{}: dataset file not found; download the {} binary version and set [dataset] "
                      "path (docs/datasets.md)",
                      path, hundred ? "CIFAR-100" : "CIFAR-10"));
    }
    if (size == 0 || size % record != 0) {
      throw ConfigError(
          fmt::format("{}: {} bytes is not a whole number of {}-byte CIFAR records (truncated, or "
                      "not CIFAR-{} binary)",
                      path, size, record, hundred ? 100 : 10));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot open the dataset file", path));
    const std::int64_t records = size / record;
    const std::int64_t take = limit > 0 ? std::clamp<std::int64_t>(limit - set.count, 0, records) : records;
    for (std::int64_t i = 0; i < (whole_file ? records : take); ++i) {
      if (!in.read(buffer.data(), record)) throw ConfigError(fmt::format("{}: short read at record {}", path, i));
      const auto label = static_cast<std::uint8_t>(buffer[static_cast<std::size_t>(label_bytes - 1)]);
      if (label >= set.classes) {
        throw ConfigError(
            fmt::format("{}: record {}: label {} is out of range 0..{}", path, i, label, set.classes - 1));
      }
      if (i >= take) continue;  // checked, not kept
      set.labels.push_back(label);
      set.pixels.insert(set.pixels.end(), buffer.begin() + label_bytes, buffer.end());
      ++set.count;
    }
  }
  return set;
}

ImageSet make_synthetic(Split split, std::int64_t count) {
  constexpr int kSide = 28, kClasses = 10, kBlobs = 3;
  // Class prototypes from a fixed seed: the same images for every study, rank and run.
  std::mt19937_64 proto_rng(20230101);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::array<double, 3 * kBlobs>> blobs(kClasses);
  for (auto& b : blobs) {
    for (int k = 0; k < kBlobs; ++k) {
      b[3 * k] = 4 + 20 * unit(proto_rng);      // centre row
      b[3 * k + 1] = 4 + 20 * unit(proto_rng);  // centre column
      b[3 * k + 2] = 2 + 3 * unit(proto_rng);   // radius
    }
  }
  ImageSet set;
  set.count = count;
  set.rows = set.cols = kSide;
  set.pixels.resize(static_cast<std::size_t>(count * kSide * kSide));
  set.labels.resize(static_cast<std::size_t>(count));
  std::mt19937_64 rng(split == Split::kTrain ? 1 : 2);
  for (std::int64_t n = 0; n < count; ++n) {
    const auto label = static_cast<std::size_t>(rng() % kClasses);
    set.labels[static_cast<std::size_t>(n)] = static_cast<std::uint8_t>(label);
    const double dr = 3 * (unit(rng) - 0.5), dc = 3 * (unit(rng) - 0.5);  // jitter: not one image per class
    for (int r = 0; r < kSide; ++r) {
      for (int c = 0; c < kSide; ++c) {
        double v = 0.35 * unit(rng);
        for (int k = 0; k < kBlobs; ++k) {
          const auto& b = blobs[label];
          const double d2 = std::pow(r - b[3 * k] - dr, 2) + std::pow(c - b[3 * k + 1] - dc, 2);
          v += 0.8 * std::exp(-d2 / (2 * b[3 * k + 2] * b[3 * k + 2]));
        }
        set.pixels[static_cast<std::size_t>((n * kSide + r) * kSide + c)] =
            static_cast<std::uint8_t>(std::clamp(v, 0.0, 1.0) * 255.0);
      }
    }
  }
  return set;
}

InputShape input_shape(const study::DatasetConfig& config) {
  const bool cifar = config.name == study::DatasetKind::kCifar10 || config.name == study::DatasetKind::kCifar100;
  InputShape shape{cifar ? 3 : 1, cifar ? 32 : 28, cifar ? 32 : 28,
                   config.name == study::DatasetKind::kCifar100 ? 100 : 10};
  if (config.resize) shape.rows = shape.cols = config.resize;
  if (config.channels) shape.channels = config.channels;
  return shape;
}

ImageSet load_images(const study::DatasetConfig& config, Split split, std::int64_t limit) {
  using study::DatasetKind;
  switch (config.name) {
    case DatasetKind::kFashionMnist:
    case DatasetKind::kMnist: return load_idx(config.path, split, limit);
    case DatasetKind::kCifar10: return load_cifar(config.path, false, split, limit);
    case DatasetKind::kCifar100: return load_cifar(config.path, true, split, limit);
    case DatasetKind::kSynthetic: break;
  }
  return make_synthetic(split, limit > 0 ? limit : (split == Split::kTrain ? 5'000 : 1'000));
}

void check_dataset(const study::DatasetConfig& config) {
  using study::DatasetKind;
  for (Split split : {Split::kTrain, Split::kTest}) {
    if (config.name == DatasetKind::kFashionMnist || config.name == DatasetKind::kMnist) {
      load_idx(config.path, split, 0, true);
    } else if (config.name != DatasetKind::kSynthetic) {
      // Records are checked whole; only the first image is kept.
      load_cifar(config.path, config.name == DatasetKind::kCifar100, split, 1, true);
    }
  }
}

ImageSet split_validation(ImageSet& train, double fraction, std::uint64_t seed) {
  const auto n = train.count;
  auto n_val = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(n)));
  n_val = std::clamp<std::int64_t>(n_val, 1, std::max<std::int64_t>(n - 1, 1));
  if (n < 2) throw ConfigError("the training set needs at least 2 images to carve a validation split from it");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates with our own draws: the same everywhere
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(i + 1))]);
  }
  const auto image = static_cast<std::size_t>(train.channels * train.rows * train.cols);
  const auto take = [&](std::int64_t from, std::int64_t to) {
    ImageSet out{to - from, train.channels, train.rows, train.cols, train.classes, {}, {}};
    out.pixels.assign(static_cast<std::size_t>(out.count) * image, 0);
    out.labels.assign(static_cast<std::size_t>(out.count), 0);
    for (std::int64_t k = from; k < to; ++k) {
      const auto src = static_cast<std::size_t>(order[static_cast<std::size_t>(k)]);
      const auto dst = static_cast<std::size_t>(k - from);
      std::copy_n(train.pixels.begin() + static_cast<std::ptrdiff_t>(src * image), image,
                  out.pixels.begin() + static_cast<std::ptrdiff_t>(dst * image));
      out.labels[dst] = train.labels[src];
    }
    return out;
  };
  ImageSet validation = take(0, n_val);
  train = take(n_val, n);
  return validation;
}

}  // namespace cs::nodes
