// RAPL against a fake powercap tree: two sockets, DRAM, wrap-around, unreadable and vanishing files.
#include "energy/rapl_meter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "tests/test_dir.hpp"

namespace cs::energy {
namespace {

namespace fs = std::filesystem;

class FakePowercap : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = cs::testing::make_test_dir("cs-powercap");
    zone("intel-rapl:0", "package-0", 1'000'000, 100);
    zone("intel-rapl:0:0", "core", 1'000'000, 50);
    zone("intel-rapl:0:1", "dram", 1'000'000, 10);
    zone("intel-rapl:1", "package-1", 2'000'000, 200);
  }
  void TearDown() override { fs::remove_all(root_); }

  void zone(const std::string& dir, const std::string& name, std::uint64_t max_uj, std::uint64_t energy_uj) {
    fs::create_directories(root_ / dir);
    std::ofstream(root_ / dir / "name") << name << '\n';
    std::ofstream(root_ / dir / "max_energy_range_uj") << max_uj << '\n';
    set(dir, energy_uj);
  }
  void set(const std::string& dir, std::uint64_t energy_uj) {
    std::ofstream(root_ / dir / "energy_uj") << energy_uj << '\n';
  }

  fs::path root_;
};

TEST_F(FakePowercap, ReadsEveryDomainButSumsOnlyPackagesAndDram) {
  zone("intel-rapl:1:0", "uncore", 1'000'000, 70);
  RaplMeter m(root_.string());
  ASSERT_TRUE(m.available()) << m.unavailable_reason();
  EXPECT_EQ(m.zones().size(), 5u);  // package-0, core, dram, package-1, uncore
  EXPECT_DOUBLE_EQ(m.read().value, 0.0);
  set("intel-rapl:0", 100 + 3'000'00);   // +0.3 J
  set("intel-rapl:0:0", 50 + 2'000'00);  // core +0.2 J: inside the package, not added again
  set("intel-rapl:0:1", 10 + 1'000'00);  // +0.1 J
  set("intel-rapl:1", 200 + 5'000'00);   // +0.5 J
  set("intel-rapl:1:0", 70 + 4'000'00);  // uncore +0.4 J: likewise
  EXPECT_NEAR(m.read().value, 0.9, 1e-12);
  const auto domains = m.domain_energy_j();
  EXPECT_NEAR(domains.at("package"), 0.8, 1e-12);  // both sockets
  EXPECT_NEAR(domains.at("core"), 0.2, 1e-12);
  EXPECT_NEAR(domains.at("uncore"), 0.4, 1e-12);
  EXPECT_NEAR(domains.at("dram"), 0.1, 1e-12);
}

TEST_F(FakePowercap, HandlesWrapAround) {
  RaplMeter m(root_.string());
  set("intel-rapl:1", 1'900'000);
  EXPECT_NEAR(m.read().value, 1.8998, 1e-12);
  set("intel-rapl:1", 100'000);  // wrapped at 2,000,000 uJ: +0.2 J
  EXPECT_NEAR(m.read().value, 1.8998 + 0.2, 1e-12);
}

TEST_F(FakePowercap, AnUnreadableFileIsReportedWithTheFix) {
  fs::remove(root_ / "intel-rapl:1" / "energy_uj");
  fs::create_directory(root_ / "intel-rapl:1" / "energy_uj");  // unreadable even for root
  RaplMeter m(root_.string());
  EXPECT_FALSE(m.available());
  EXPECT_NE(m.unavailable_reason().find("intel-rapl:1/energy_uj exists but cannot be read"), std::string::npos)
      << m.unavailable_reason();
  EXPECT_NE(m.unavailable_reason().find("chmod"), std::string::npos);
  EXPECT_THROW(m.read(), MeterError);  // never a silent zero
}

TEST_F(FakePowercap, AFileThatVanishesMidRunThrowsNamingIt) {
  RaplMeter m(root_.string());
  fs::remove_all(root_ / "intel-rapl:0");
  try {
    m.read();
    FAIL();
  } catch (const MeterError& e) {
    EXPECT_NE(std::string(e.what()).find("has vanished"), std::string::npos) << e.what();
  }
}

TEST(Rapl, NoPowercapSaysWhy) {
  RaplMeter m("/nonexistent/powercap");
  EXPECT_FALSE(m.available());
  EXPECT_NE(m.unavailable_reason().find("no powercap zones"), std::string::npos);
}

}  // namespace
}  // namespace cs::energy
