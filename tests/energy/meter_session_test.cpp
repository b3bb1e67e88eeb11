// The sampling session over fake meters on a caller-driven clock.
#include "energy/meter_session.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "base/error.hpp"
#include "tests/energy/fake_meter.hpp"

namespace cs::energy {
namespace {

TEST(MeterSession, EnergyIsTheDifferenceOfCumulativeReadings) {
  double now_s = 100.0;
  FakeMeter a("a", 50.0, &now_s), b("b", 5.0, &now_s);
  MeterSession session({&a, &b}, std::chrono::milliseconds(1));
  session.start();
  now_s = 110.0;
  const auto so_far = session.energy_so_far();
  EXPECT_DOUBLE_EQ(so_far[0].value, 500.0);
  now_s = 112.0;
  const auto report = session.stop();
  ASSERT_EQ(report.energy.size(), 2u);
  EXPECT_EQ(report.energy[0].name, "a");
  EXPECT_DOUBLE_EQ(report.energy[0].energy.value, 600.0);
  EXPECT_DOUBLE_EQ(report.energy[1].energy.value, 60.0);
  EXPECT_GE(report.sampler_cpu_s, 0.0);
}

/// Records whether a session is running when it is read (a GPU shared by busy time needs it).
class SessionAwareMeter final : public EnergyMeter {
 public:
  std::string name() const override { return "aware"; }
  MeterKind kind() const override { return MeterKind::kHardware; }
  MeterScope scope() const override { return MeterScope::kDevice; }
  std::string unavailable_reason() const override { return {}; }
  Joules read() override {
    if (!in_session) ++reads_outside;
    return {};
  }
  void session_started() override { in_session = true; }
  void session_stopped() override { in_session = false; }
  bool in_session = false;
  int reads_outside = 0;
};

TEST(MeterSession, TellsItsMetersWhenItStartsAndStopsAndReadsOnlyInBetween) {
  SessionAwareMeter meter;
  {
    MeterSession session({&meter}, std::chrono::milliseconds(1));
    session.start();
    EXPECT_TRUE(meter.in_session);
    session.energy_so_far();
    session.stop();
    EXPECT_FALSE(meter.in_session);
    session.start();
    EXPECT_TRUE(meter.in_session);
  }  // destroyed without stop(): still told
  EXPECT_FALSE(meter.in_session);
  EXPECT_EQ(meter.reads_outside, 0);
}

TEST(MeterSession, SamplesOnItsOwnThreadAtTheInterval) {
  double now_s = 0.0;
  FakeMeter a("a", 1.0, &now_s);
  MeterSession session({&a}, std::chrono::milliseconds(5));
  session.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto report = session.stop();
  // Not a timing assertion: at least a handful of samples from 100 ms at 5 ms.
  EXPECT_GE(report.samples.size(), 3u);
  for (const auto& s : report.samples) EXPECT_EQ(s.meter, 0u);
}

TEST(MeterSession, RejectsANonPositiveInterval) {
  EXPECT_THROW(MeterSession({}, std::chrono::milliseconds(0)), ConfigError);
}

}  // namespace
}  // namespace cs::energy
