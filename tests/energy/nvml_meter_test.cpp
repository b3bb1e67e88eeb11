// The NVML meter through a fake libnvidia-ml.so: the real dlopen and dlsym path, GPU selection
// by CUDA_VISIBLE_DEVICES, the energy counter and the power-polling fallback.
#include "energy/nvml_meter.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "base/error.hpp"

namespace cs::energy {
namespace {

class FakeNvml : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(CS_FAKE_NVML, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    configure_ = reinterpret_cast<void (*)(unsigned, int, int)>(dlsym(handle_, "fake_nvml_configure"));
    set_ = reinterpret_cast<void (*)(unsigned, unsigned long long, unsigned)>(dlsym(handle_, "fake_nvml_set"));
    initialised_ = reinterpret_cast<int (*)()>(dlsym(handle_, "fake_nvml_initialised"));
    add_sample_ = reinterpret_cast<void (*)(unsigned, unsigned, unsigned long long, unsigned)>(
        dlsym(handle_, "fake_nvml_add_process_sample"));
    configure_(4, 1, 0);
  }
  void TearDown() override { dlclose(handle_); }

  static GpuSelection visible(const char* value) { return {std::string(value), 0}; }

  void* handle_ = nullptr;
  void (*configure_)(unsigned, int, int) = nullptr;
  void (*set_)(unsigned, unsigned long long, unsigned) = nullptr;
  void (*add_sample_)(unsigned gpu, unsigned pid, unsigned long long time_stamp_us, unsigned sm_util) = nullptr;
  int (*initialised_)() = nullptr;
};

TEST_F(FakeNvml, CountsOnlyTheGpusInCudaVisibleDevices) {
  set_(1, 5'000, 0);
  set_(2, 7'000, 0);
  set_(3, 9'000, 0);
  NvmlMeter meter(visible("1,GPU-fake-3"), CS_FAKE_NVML);
  ASSERT_EQ(meter.unavailable_reason(), "");
  ASSERT_EQ(meter.gpus().size(), 2u);
  EXPECT_EQ(meter.gpus()[1].name, "Fake GPU 3");
  EXPECT_DOUBLE_EQ(meter.read().value, 0.0);
  set_(1, 6'500, 0);   // +1.5 J
  set_(2, 99'000, 0);  // not this rank's GPU
  set_(3, 11'000, 0);  // +2 J
  EXPECT_DOUBLE_EQ(meter.read().value, 3.5);
}

TEST_F(FakeNvml, WithoutCudaVisibleDevicesTheLocalRankPicksOneGpu) {
  set_(2, 1'000, 0);
  NvmlMeter meter(GpuSelection{std::nullopt, 6}, CS_FAKE_NVML);  // 6 mod 4 = GPU 2
  ASSERT_EQ(meter.unavailable_reason(), "");
  ASSERT_EQ(meter.gpus().size(), 1u);
  EXPECT_EQ(meter.gpus()[0].id, "2");
  set_(2, 3'000, 0);
  set_(0, 50'000, 0);
  EXPECT_DOUBLE_EQ(meter.read().value, 2.0);
}

TEST_F(FakeNvml, IntegratesPolledPowerWhereThereIsNoEnergyCounter) {
  configure_(1, 0, 0);
  double now_s = 10.0;
  set_(0, 0, 100'000);  // 100 W
  NvmlMeter meter(visible("0"), CS_FAKE_NVML, [&] { return now_s; });
  ASSERT_EQ(meter.unavailable_reason(), "");
  EXPECT_FALSE(meter.gpus()[0].has_energy_counter);
  now_s = 12.0;
  set_(0, 0, 200'000);                          // 200 W
  EXPECT_DOUBLE_EQ(meter.read().value, 300.0);  // trapezoid over 2 s
  now_s = 13.0;
  EXPECT_DOUBLE_EQ(meter.read().value, 500.0);
}

TEST_F(FakeNvml, ATrialShorterThanTheCounterRefreshGetsItsPolledEnergy) {
  // The counter stands still for 0.07 s at 200 W: the meter integrates the polled power (14 J),
  // not 0 J. When the counter moves it takes over, and the reading never falls.
  configure_(1, 1, 0);
  double now_s = 5.0;
  set_(0, 1'000'000, 200'000);
  NvmlMeter meter(visible("0"), CS_FAKE_NVML, [&] { return now_s; });
  ASSERT_TRUE(meter.gpus()[0].has_energy_counter);
  now_s = 5.07;
  EXPECT_NEAR(meter.read().value, 14.0, 1e-9);
  now_s = 5.10;
  set_(0, 1'010'000, 200'000);  // the counter refreshed: +10 J, less than polled so far
  EXPECT_NEAR(meter.read().value, 14.0, 1e-9);
  now_s = 5.30;
  set_(0, 1'060'000, 200'000);  // +60 J by the counter
  EXPECT_NEAR(meter.read().value, 60.0, 1e-9);
  now_s = 5.35;  // standing still again: 60 J + 200 W x 0.05 s
  EXPECT_NEAR(meter.read().value, 70.0, 1e-9);
}

TEST_F(FakeNvml, SaysWhichGpuAndDriverItReads) {
  NvmlMeter meter(visible("GPU-fake-2,0"), CS_FAKE_NVML);
  ASSERT_EQ(meter.unavailable_reason(), "");
  EXPECT_EQ(meter.describe_gpus(), "2 GPU-fake-2 Fake GPU 2; 0 GPU-fake-0 Fake GPU 0");
  EXPECT_EQ(meter.driver(), "driver 580.95.05, CUDA 13.0");
}

TEST_F(FakeNvml, TheCounterIsCrossCheckedAgainstPolledPower) {
  // 0.5 s at 200 W by polled power; the counter says 95 J: ratio 0.95. Then a stretch where the
  // counter stands still: what the meter adds there is polled power, not confirmed by the counter.
  configure_(1, 1, 0);
  double now_s = 1.0;
  set_(0, 0, 200'000);
  NvmlMeter meter(visible("0"), CS_FAKE_NVML, [&] { return now_s; });
  now_s = 1.5;
  set_(0, 95'000, 200'000);
  meter.read();
  auto check = meter.counter_check();
  ASSERT_TRUE(check.has_value());
  EXPECT_TRUE(check->has_counter);
  EXPECT_NEAR(check->counter_j / check->polled_j, 0.95, 1e-12);
  EXPECT_NEAR(check->energy_j, 95.0, 1e-9);
  now_s = 1.55;  // the counter stands: +10 J polled
  meter.read();
  check = meter.counter_check();
  EXPECT_NEAR(check->energy_j - check->counter_j, 10.0, 1e-9);
}

/// A temporary folder for the GPUs' busy boards, removed afterwards.
class SharedGpu : public FakeNvml {
 protected:
  void SetUp() override {
    FakeNvml::SetUp();
    folder_ =
        std::filesystem::temp_directory_path() / ("cs-board-" + std::to_string(getpid()) + "-" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    configure_(1, 1, 0);
  }
  void TearDown() override {
    std::filesystem::remove_all(folder_);
    FakeNvml::TearDown();
  }
  /// A meter of GPU 0 on the board, on the clock `now_s`, in a session, read once.
  std::unique_ptr<NvmlMeter> meter_in_session(const double& now_s) {
    auto meter = std::make_unique<NvmlMeter>(
        visible("0"), CS_FAKE_NVML, [&now_s] { return now_s; }, folder_.string());
    meter->session_started();
    meter->read();
    return meter;
  }
  std::filesystem::path folder_;
};

TEST_F(SharedGpu, TwoRanksOnOneGpuSplitItAndTogetherMeasureTheDevice) {
  // Rank a trains from t = 0 to 10 s, rank b from 5 s to 12 s, on GPU 0. The device's counter
  // goes 0 -> 500 J (a alone) -> 1500 J (both) -> 1700 J (b alone). Each interval goes to the
  // ranks busy in it by their busy time, and the two together measure what the device did.
  double now_s = 0.0;
  const auto clock = [&] { return now_s; };
  NvmlMeter a(visible("0"), CS_FAKE_NVML, clock, folder_.string());
  NvmlMeter b(visible("0"), CS_FAKE_NVML, clock, folder_.string());
  ASSERT_EQ(a.unavailable_reason(), "");
  ASSERT_TRUE(a.shared());
  a.session_started();
  EXPECT_DOUBLE_EQ(a.read().value, 0.0);
  now_s = 5.0;
  set_(0, 500'000, 100'000);
  b.session_started();
  const double b_start = b.read().value;  // b's session begins here
  EXPECT_DOUBLE_EQ(a.read().value, 500.0);
  now_s = 10.0;
  set_(0, 1'500'000, 200'000);
  EXPECT_DOUBLE_EQ(b.read().value - b_start, 500.0);  // b reads first: the board is the same either way
  EXPECT_DOUBLE_EQ(a.read().value, 1000.0);
  a.session_stopped();
  now_s = 12.0;
  set_(0, 1'700'000, 100'000);
  EXPECT_DOUBLE_EQ(b.read().value - b_start, 700.0);
  b.session_stopped();
  EXPECT_DOUBLE_EQ(a.read().value + (b.read().value - b_start), 1700.0);
}

TEST_F(SharedGpu, ABoardEntryOfAProcessThatIsGoneIsIgnored) {
  // A rank killed mid-trial leaves its entry saying "busy since 0": it must not keep a share.
  pid_t gone = 0;
  if (const pid_t child = fork(); child == 0) {
    _exit(0);
  } else {
    waitpid(child, nullptr, 0);
    gone = child;
  }
  std::filesystem::create_directories(folder_ / "GPU-fake-0");
  std::ofstream(folder_ / "GPU-fake-0" / (std::to_string(gone) + ".0")) << "3 0\n";
  std::ofstream(folder_ / "GPU-fake-0" / "not-an-entry") << "1 0\n";
  double now_s = 1.0;
  const auto meter = meter_in_session(now_s);
  now_s = 2.0;
  set_(0, 50'000, 0);
  EXPECT_DOUBLE_EQ(meter->read().value, 50.0);
}

TEST_F(SharedGpu, NvmlsPerProcessUtilisationSplitsTheGpuWhereTheDriverSamplesIt) {
  // This process (the only one on the busy board) shares GPU 0 with a process of another
  // user (PID self + 1 here). Busy time alone would charge this process the whole GPU; NVML's
  // per-process samples charge it its part of the SM utilisation.
  const auto self = static_cast<unsigned>(getpid());
  add_sample_(0, self, 100, 80);  // taken before the meter existed: not this study's
  double now_s = 0.0;
  const auto meter = meter_in_session(now_s);
  now_s = 1.0;
  set_(0, 900'000, 300'000);
  add_sample_(0, self, 200, 30);
  add_sample_(0, self + 1, 200, 60);
  EXPECT_DOUBLE_EQ(meter->read().value, 300.0);  // 30 of 90 utilisation points
  // No new samples (the GPU idle, or the driver's period not yet over): busy time decides.
  now_s = 2.0;
  set_(0, 1'000'000, 100'000);
  EXPECT_DOUBLE_EQ(meter->read().value, 400.0);
  EXPECT_DOUBLE_EQ(meter->gpus()[0].by_utilisation_j, 300.0);
  // Samples that show only the other process: this one ran nothing on the GPU.
  now_s = 3.0;
  set_(0, 1'500'000, 500'000);
  add_sample_(0, self + 1, 300, 90);
  EXPECT_DOUBLE_EQ(meter->read().value, 400.0);
}

TEST_F(SharedGpu, UtilisationThatNeverNamesThisProcessFallsBackToBusyTime) {
  // Inside a container NVML may list this process under another PID: absent from every
  // sample, it would be charged nothing for what it ran. Until NVML names it, busy time rules.
  double now_s = 0.0;
  const auto meter = meter_in_session(now_s);
  now_s = 1.0;
  set_(0, 200'000, 200'000);
  add_sample_(0, static_cast<unsigned>(getpid()) + 1, 500, 70);
  EXPECT_DOUBLE_EQ(meter->read().value, 200.0);
  EXPECT_DOUBLE_EQ(meter->gpus()[0].by_utilisation_j, 0.0);
}

TEST_F(SharedGpu, ABoardThatCannotBeMadeIsAReasonNotACrash) {
  std::ofstream(folder_) << "a file where the folder should be";
  NvmlMeter meter(visible("0"), CS_FAKE_NVML, {}, folder_.string());
  EXPECT_NE(meter.unavailable_reason().find("cannot share the GPU"), std::string::npos) << meter.unavailable_reason();
  std::filesystem::remove(folder_);
}

TEST_F(FakeNvml, SaysWhyItCannotRead) {
  EXPECT_NE(NvmlMeter(visible(""), CS_FAKE_NVML).unavailable_reason().find("gives this rank no GPU"),
            std::string::npos);
  EXPECT_NE(NvmlMeter(visible("7"), CS_FAKE_NVML).unavailable_reason().find("Invalid Argument"), std::string::npos);
  EXPECT_NE(NvmlMeter(visible("GPU-nope"), CS_FAKE_NVML).unavailable_reason().find("Not Found"), std::string::npos);
  EXPECT_NE(NvmlMeter(visible("MIG-abc"), CS_FAKE_NVML).unavailable_reason().find("MIG"), std::string::npos);
  configure_(0, 1, 0);
  EXPECT_NE(NvmlMeter(GpuSelection{}, CS_FAKE_NVML).unavailable_reason().find("no GPU"), std::string::npos);
  configure_(2, 1, 9);
  NvmlMeter no_driver(GpuSelection{}, CS_FAKE_NVML);
  EXPECT_NE(no_driver.unavailable_reason().find("Driver Not Loaded"), std::string::npos);
  EXPECT_THROW(no_driver.read(), MeterError);
  EXPECT_NE(NvmlMeter(GpuSelection{}, "/nonexistent/libnvidia-ml.so.1").unavailable_reason().find("no NVML"),
            std::string::npos);
}

TEST_F(FakeNvml, ShutsNvmlDownWhenDestroyed) {
  {
    NvmlMeter meter(visible("0"), CS_FAKE_NVML);
    EXPECT_EQ(initialised_(), 1);
  }
  EXPECT_EQ(initialised_(), 0);
}

TEST(VisibleDevices, StopsAtTheFirstInvalidEntryAsCudaDoes) {
  EXPECT_EQ(parse_visible_devices("0,2"), (std::vector<std::string>{"0", "2"}));
  EXPECT_EQ(parse_visible_devices("GPU-a, 1"), (std::vector<std::string>{"GPU-a", "1"}));
  EXPECT_EQ(parse_visible_devices("1,x,2"), (std::vector<std::string>{"1"}));
  EXPECT_TRUE(parse_visible_devices("").empty());
  EXPECT_TRUE(parse_visible_devices("-1").empty());
}

// The real driver, where there is one (the GPU machine); skipped, saying why, elsewhere.
TEST(NvmlOnThisNode, MetersTheRanksGpuWhereTheDriverIsInstalled) {
  NvmlMeter meter(gpu_selection_from_env(0));
  if (meter.unavailable_reason().starts_with("no NVML")) GTEST_SKIP() << meter.unavailable_reason();
  ASSERT_EQ(meter.unavailable_reason(), "");
  const Joules before = meter.read();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double power_w = (meter.read() - before).value / 2.0;
  std::cout << "NVML: " << meter.gpus().size() << " GPU(s), first " << meter.gpus()[0].id << " '"
            << meter.gpus()[0].name << "', energy counter " << meter.gpus()[0].has_energy_counter << ", " << power_w
            << " W over 2 s\n";
  EXPECT_GT(power_w, 5.0);     // a powered GPU draws at least this at idle
  EXPECT_LT(power_w, 2000.0);  // and no single GPU draws this much
}

}  // namespace
}  // namespace cs::energy
