// The CPU/RAM estimate against a fake /proc tree and a virtual clock.
#include "energy/cpu_estimate_meter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "tests/test_dir.hpp"

namespace cs::energy {
namespace {

namespace fs = std::filesystem;

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = cs::testing::make_test_dir("cs-proc");
    fs::create_directories(root_ / "self");
    write_cpuinfo("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz", 2);
    set_cpu_ticks(0, 0);
    set_resident_gib(1.0);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write_cpuinfo(const std::string& model, int cores) {
    std::ofstream out(root_ / "cpuinfo");
    for (int c = 0; c < cores; ++c) {
      out << "processor\t: " << c << "\nmodel name\t: " << model << "\nphysical id\t: 0\ncore id\t\t: " << c << "\n\n";
    }
  }
  void set_cpu_ticks(long utime, long stime) {
    std::ofstream(root_ / "self" / "stat") << "1234 (a (weird) name) R 1 1 1 0 -1 4194560 100 0 0 0 " << utime << ' '
                                           << stime << " 0 0 20 0 1 0 100 1000 100\n";
  }
  void set_resident_gib(double gib) {
    const auto pages = static_cast<long>(gib * 1024 * 1024 * 1024 / static_cast<double>(sysconf(_SC_PAGESIZE)));
    std::ofstream(root_ / "self" / "statm") << pages * 2 << ' ' << pages << " 0 0 0 0 0\n";
  }
  CpuEstimateOptions options() {
    CpuEstimateOptions o;
    o.proc_root = root_.string();
    o.now_s = [this] { return now_s_; };
    return o;
  }

  fs::path root_;
  double now_s_ = 0.0;
};

TEST_F(FakeProc, KnownCpuUsesTableTdpPerCore) {
  CpuEstimateMeter meter(options());
  EXPECT_EQ(meter.cpu().source, "table");
  EXPECT_DOUBLE_EQ(meter.cpu().watts_per_core(), 150.0 / 20.0);
}

TEST_F(FakeProc, EnergyIsCpuSecondsTimesCorePowerPlusRam) {
  CpuEstimateMeter meter(options());
  const Joules start = meter.read();
  const long ticks = sysconf(_SC_CLK_TCK);
  set_cpu_ticks(3 * ticks, 1 * ticks);  // 4 CPU-seconds
  now_s_ = 10.0;                        // 10 s of 1 GiB resident
  const Joules end = meter.read();
  EXPECT_NEAR((end - start).value, 4.0 * 7.5 + 10.0 * kRamWattsPerGib, 1e-9);
}

TEST_F(FakeProc, UnknownCpuFallsBackPerCoreAndSaysSo) {
  write_cpuinfo("Mystery CPU 9000", 4);
  CpuEstimateMeter meter(options());
  EXPECT_EQ(meter.cpu().source, "fallback");
  EXPECT_DOUBLE_EQ(meter.cpu().watts_per_core(), kFallbackWattsPerCore);
  EXPECT_EQ(meter.cpu().cores, 4);
}

TEST_F(FakeProc, StudyOverrideWins) {
  auto o = options();
  o.tdp_w = 100.0;
  o.cores = 10;
  CpuEstimateMeter meter(o);
  EXPECT_EQ(meter.cpu().source, "override");
  EXPECT_DOUBLE_EQ(meter.cpu().watts_per_core(), 10.0);
}

TEST_F(FakeProc, MissingProcFilesMakeItUnavailableWithAReason) {
  CpuEstimateMeter meter(options());
  fs::remove(root_ / "self" / "stat");
  EXPECT_FALSE(meter.available());
  EXPECT_NE(meter.unavailable_reason().find("stat"), std::string::npos);
  EXPECT_THROW(meter.read(), MeterError);
}

TEST(CpuEstimateReal, ReadsThisProcessAndGrowsWithWork) {
  CpuEstimateMeter meter;
  ASSERT_TRUE(meter.available()) << meter.unavailable_reason();
  const Joules before = meter.read();
  volatile double x = 0;
  for (int i = 0; i < 50'000'000; ++i) x = x + 1.0 / (i + 1);
  EXPECT_GT(meter.read().value, before.value);
}

}  // namespace
}  // namespace cs::energy
