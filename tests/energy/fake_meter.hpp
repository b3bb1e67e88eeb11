// The fake EnergyMeter of the tests: constant power against a clock the test drives.
#pragma once

#include <string>

#include "energy/meter.hpp"

namespace cs::energy {

/// A meter that reports a constant power against a caller-driven clock.
class FakeMeter final : public EnergyMeter {
 public:
  FakeMeter(std::string name, double power_w, const double* now_s)
      : name_(std::move(name)), power_w_(power_w), now_s_(now_s) {}
  std::string name() const override { return name_; }
  MeterKind kind() const override { return MeterKind::kHardware; }
  MeterScope scope() const override { return MeterScope::kNode; }
  std::string unavailable_reason() const override { return {}; }
  Joules read() override { return {power_w_ * *now_s_}; }

 private:
  std::string name_;
  double power_w_;
  const double* now_s_;
};

}  // namespace cs::energy
