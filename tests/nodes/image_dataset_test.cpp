// Reading the real Fashion-MNIST files, MNIST-style and CIFAR fixtures in their real formats, and
// refusing broken ones.
#include "nodes/image_dataset.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::nodes {
namespace {

namespace fs = std::filesystem;

study::DatasetConfig fmnist_at(const std::string& dir) {
  study::DatasetConfig config;
  config.path = dir;
  return config;
}

TEST(FashionMnist, ReadsASubsetOfTheRealFiles) {
  const auto set = load_idx(CS_FASHION_MNIST_DIR, Split::kTrain, 100);
  EXPECT_EQ(set.count, 100);
  EXPECT_EQ(set.rows, 28);
  EXPECT_EQ(set.cols, 28);
  EXPECT_EQ(set.pixels.size(), 100u * 28u * 28u);
  // The first training label of Fashion-MNIST is 9 (ankle boot).
  EXPECT_EQ(set.labels[0], 9);
  int nonzero = 0;
  for (auto p : set.pixels) nonzero += p != 0;
  EXPECT_GT(nonzero, 1000);
}

TEST(FashionMnist, TestSplitHasTenThousandImages) {
  EXPECT_EQ(load_idx(CS_FASHION_MNIST_DIR, Split::kTest, 0).count, 10000);
}

TEST(FashionMnist, MissingDirectoryNamesTheFile) {
  try {
    check_dataset(fmnist_at("/nonexistent/fmnist"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fmnist/train-images-idx3-ubyte.gz"), std::string::npos);
  }
}

TEST(FashionMnist, WrongMagicAndTruncationAreConfigErrors) {
  const fs::path dir = fs::temp_directory_path() / ("cs-fmnist-" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const auto& f : fs::directory_iterator(CS_FASHION_MNIST_DIR)) fs::copy_file(f.path(), dir / f.path().filename());
  {
    gzFile g = gzopen((dir / "t10k-labels-idx1-ubyte.gz").c_str(), "wb");
    const unsigned char wrong[] = {0, 0, 8, 3, 0, 0};  // image magic in a label file, then cut short
    gzwrite(g, wrong, sizeof wrong);
    gzclose(g);
  }
  EXPECT_THROW(check_dataset(fmnist_at(dir.string())), ConfigError);
  EXPECT_THROW(load_idx(dir.string(), Split::kTest, 10), ConfigError);
  fs::remove_all(dir);
}

TEST(FashionMnist, ValidateReadsTheWholeFileNotOnlyItsHeader) {
  const fs::path dir = fs::temp_directory_path() / ("cs-fmnist-cut-" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const auto& f : fs::directory_iterator(CS_FASHION_MNIST_DIR)) fs::copy_file(f.path(), dir / f.path().filename());
  check_dataset(fmnist_at(dir.string()));  // the real files pass
  // A test-image file with a valid header whose images stop half way (valid gzip, short data).
  const auto real = load_idx(CS_FASHION_MNIST_DIR, Split::kTest, 0);
  {
    gzFile g = gzopen((dir / "t10k-images-idx3-ubyte.gz").c_str(), "wb");
    const unsigned char header[] = {0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28};  // 10000 x 28 x 28
    gzwrite(g, header, sizeof header);
    gzwrite(g, real.pixels.data(), static_cast<unsigned>(real.pixels.size() / 2));
    gzclose(g);
  }
  EXPECT_NO_THROW(load_idx(dir.string(), Split::kTest, 100));  // the header alone looks fine
  try {
    check_dataset(fmnist_at(dir.string()));
    ADD_FAILURE() << "a half-written image file passed the check";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-images-idx3-ubyte.gz: truncated"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cs::nodes

namespace cs::nodes {
namespace {

namespace fs = std::filesystem;

/// A fresh temporary folder for one test's fixture files.
fs::path fixture_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("cs-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_bytes(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

/// IDX files of `n` 2x2 images with the given labels, uncompressed (as MNIST's site serves them unpacked).
void write_idx(const fs::path& dir, const std::string& prefix, const std::vector<unsigned char>& labels) {
  const auto n = static_cast<unsigned char>(labels.size());
  std::vector<unsigned char> images{0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 2, 0, 0, 0, 2};
  for (unsigned char i = 0; i < n; ++i) images.insert(images.end(), {i, i, i, i});
  write_bytes(dir / (prefix + "-images-idx3-ubyte"), images);
  std::vector<unsigned char> label_file{0, 0, 8, 1, 0, 0, 0, n};
  label_file.insert(label_file.end(), labels.begin(), labels.end());
  write_bytes(dir / (prefix + "-labels-idx1-ubyte"), label_file);
}

TEST(ImageDataset, ReadsUncompressedIdxFilesAndRefusesALabelOutOfRange) {
  const auto dir = fixture_dir("idx");
  write_idx(dir, "train", {3, 1, 4});
  write_idx(dir, "t10k", {5, 10});
  const auto train = load_idx(dir.string(), Split::kTrain, 0);
  EXPECT_EQ(train.count, 3);
  EXPECT_EQ(train.labels, (std::vector<std::uint8_t>{3, 1, 4}));
  EXPECT_EQ(train.pixels[4], 1);  // the second image
  try {
    load_idx(dir.string(), Split::kTest, 0);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-labels-idx1-ubyte: label 10 is out of range 0..9"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

/// CIFAR records: `labels` per file, each image filled with its index.
void write_cifar(const fs::path& path, const std::vector<unsigned char>& labels, bool hundred) {
  std::vector<unsigned char> bytes;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (hundred) bytes.push_back(0);  // the coarse label
    bytes.push_back(labels[i]);
    bytes.insert(bytes.end(), 3 * 32 * 32, static_cast<unsigned char>(i));
  }
  write_bytes(path, bytes);
}

TEST(ImageDataset, ReadsCifarTenAndHundredBinaryFilesAndRefusesBrokenOnes) {
  const auto dir = fixture_dir("cifar");
  for (int b = 1; b <= 5; ++b) write_cifar(dir / fmt::format("data_batch_{}.bin", b), {1, 2}, false);
  write_cifar(dir / "test_batch.bin", {9}, false);
  study::DatasetConfig config;
  config.name = study::DatasetKind::kCifar10;
  config.path = dir.string();
  check_dataset(config);
  const auto train = load_cifar(dir.string(), false, Split::kTrain, 0);
  EXPECT_EQ(train.count, 10);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.pixels.size(), 10u * 3072u);
  EXPECT_EQ(load_cifar(dir.string(), false, Split::kTrain, 3).count, 3);  // a subset stops early
  EXPECT_EQ(input_shape(config).channels, 3);

  write_cifar(dir / "test_batch.bin", {9, 10}, false);
  EXPECT_THROW(check_dataset(config), ConfigError);  // label 10 in CIFAR-10
  write_bytes(dir / "test_batch.bin", std::vector<unsigned char>(3000, 1));
  try {
    check_dataset(config);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("test_batch.bin: 3000 bytes is not a whole number of 3073-byte CIFAR records"),
              std::string::npos)
        << e.what();
  }
  write_cifar(dir / "test_batch.bin", {9}, false);
  write_cifar(dir / "data_batch_5.bin", {1, 12}, false);  // only the last file is broken
  EXPECT_THROW(check_dataset(config), ConfigError);       // validate reads every file, not the first image
  fs::remove(dir / "data_batch_3.bin");
  EXPECT_THROW(load_cifar(dir.string(), false, Split::kTrain, 0), ConfigError);

  const auto hundred = dir / "cifar-100-binary";
  fs::create_directories(hundred);
  write_cifar(hundred / "train.bin", {57, 99}, true);
  write_cifar(hundred / "test.bin", {3}, true);
  const auto fine = load_cifar(dir.string(), true, Split::kTrain, 0);
  EXPECT_EQ(fine.labels, (std::vector<std::uint8_t>{57, 99}));  // the fine labels
  EXPECT_EQ(fine.classes, 100);
  fs::remove_all(dir);
}

TEST(ImageDataset, TheSyntheticSetIsTheSameEveryTimeAndTheValidationSplitIsDisjointAndSeeded) {
  const auto a = make_synthetic(Split::kTrain, 200);
  EXPECT_EQ(a.pixels, make_synthetic(Split::kTrain, 200).pixels);
  EXPECT_NE(a.pixels, make_synthetic(Split::kTest, 200).pixels);
  for (auto label : a.labels) EXPECT_LT(label, 10);

  auto train = load_idx(CS_FASHION_MNIST_DIR, Split::kTrain, 100);
  const auto original = train;
  auto again = original;
  const auto validation = split_validation(train, 0.1, 42);
  EXPECT_EQ(validation.count, 10);
  EXPECT_EQ(train.count, 90);
  EXPECT_EQ(split_validation(again, 0.1, 42).pixels, validation.pixels);  // the same on every rank
  // Every original image is in exactly one of the two sets (compared by a position-weighted checksum).
  const std::ptrdiff_t image = 28 * 28;
  const auto checksum = [&](const ImageSet& set, std::int64_t i) {
    std::uint64_t sum = 0;
    for (std::ptrdiff_t p = 0; p < image; ++p) {
      sum = sum * 31 + set.pixels[static_cast<std::size_t>(static_cast<std::ptrdiff_t>(i) * image + p)];
    }
    return sum;
  };
  std::multiset<std::uint64_t> before, after;
  for (std::int64_t i = 0; i < 100; ++i) before.insert(checksum(original, i));
  for (std::int64_t i = 0; i < train.count; ++i) after.insert(checksum(train, i));
  for (std::int64_t i = 0; i < validation.count; ++i) after.insert(checksum(validation, i));
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace cs::nodes
