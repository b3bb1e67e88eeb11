// Reading the real Fashion-MNIST files, and refusing broken ones.
#include "nodes/fashion_mnist.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>

#include "base/error.hpp"

namespace cs::nodes {
namespace {

namespace fs = std::filesystem;

TEST(FashionMnist, ReadsASubsetOfTheRealFiles) {
  const auto set = load_fashion_mnist(CS_FASHION_MNIST_DIR, Split::kTrain, 100);
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
  EXPECT_EQ(load_fashion_mnist(CS_FASHION_MNIST_DIR, Split::kTest, 0).count, 10000);
}

TEST(FashionMnist, MissingDirectoryNamesTheFile) {
  try {
    check_fashion_mnist("/nonexistent/fmnist");
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
  EXPECT_THROW(check_fashion_mnist(dir.string()), ConfigError);
  EXPECT_THROW(load_fashion_mnist(dir.string(), Split::kTest, 10), ConfigError);
  fs::remove_all(dir);
}

TEST(FashionMnist, ValidateReadsTheWholeFileNotOnlyItsHeader) {
  const fs::path dir = fs::temp_directory_path() / ("cs-fmnist-cut-" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const auto& f : fs::directory_iterator(CS_FASHION_MNIST_DIR)) fs::copy_file(f.path(), dir / f.path().filename());
  check_fashion_mnist(dir.string());  // the real files pass
  // A test-image file with a valid header whose images stop half way (valid gzip, short data).
  const auto real = load_fashion_mnist(CS_FASHION_MNIST_DIR, Split::kTest, 0);
  {
    gzFile g = gzopen((dir / "t10k-images-idx3-ubyte.gz").c_str(), "wb");
    const unsigned char header[] = {0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28};  // 10000 x 28 x 28
    gzwrite(g, header, sizeof header);
    gzwrite(g, real.pixels.data(), static_cast<unsigned>(real.pixels.size() / 2));
    gzclose(g);
  }
  EXPECT_NO_THROW(load_fashion_mnist(dir.string(), Split::kTest, 100));  // the header alone looks fine
  try {
    check_fashion_mnist(dir.string());
    ADD_FAILURE() << "a half-written image file passed the check";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-images-idx3-ubyte.gz: truncated"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cs::nodes
