// Carbon-intensity sources: what a site's grid emits per kWh at a given time.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace cs::carbon {

class CarbonSource {
 public:
  virtual ~CarbonSource() = default;
  /// Grid intensity in gCO2/kWh at `unix_s` (seconds since the epoch, UTC).
  virtual double intensity_g_per_kwh(double unix_s) const = 0;
  /// A short description stored with the results ("constant 250 g/kWh").
  virtual std::string describe() const = 0;
};

class ConstantCarbonSource final : public CarbonSource {
 public:
  /// Throws ConfigError when the intensity is negative or not finite.
  explicit ConstantCarbonSource(double intensity_g_per_kwh, std::string description = {});
  double intensity_g_per_kwh(double) const override { return intensity_g_per_kwh_; }
  std::string describe() const override;

 private:
  double intensity_g_per_kwh_;
  std::string description_;
};

}  // namespace cs::carbon
