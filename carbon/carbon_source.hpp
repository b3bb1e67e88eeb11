// Carbon-intensity sources: what a site's grid emits per kWh at a given time.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cs::carbon {

struct TracePoint {
  double unix_s = 0.0;
  double intensity_g_per_kwh = 0.0;
};

/// A step between two points of a series longer than its gap tolerance.
struct TraceGap {
  double from_unix_s = 0.0;
  double to_unix_s = 0.0;
};

class CarbonSource {
 public:
  virtual ~CarbonSource() = default;
  /// Grid intensity in gCO2/kWh at `unix_s` (seconds since the epoch, UTC); empty when the
  /// source has no value then (a trace outside its time range, with extrapolation "error").
  virtual std::optional<double> intensity_g_per_kwh(double unix_s) const = 0;
  /// A short description stored with the results ("constant 250 g/kWh").
  virtual std::string describe() const = 0;
  /// The series behind the source, in time order (stored in /carbon/<site>); empty for a constant.
  virtual std::span<const TracePoint> points() const { return {}; }
  /// Steps of the series longer than its tolerance (reported by `validate`); none for a constant.
  virtual std::span<const TraceGap> gaps() const { return {}; }
};

class ConstantCarbonSource final : public CarbonSource {
 public:
  /// Throws ConfigError when the intensity is negative or not finite.
  explicit ConstantCarbonSource(double intensity_g_per_kwh, std::string description = {});
  std::optional<double> intensity_g_per_kwh(double) const override { return intensity_g_per_kwh_; }
  std::string describe() const override;

 private:
  double intensity_g_per_kwh_;
  std::string description_;
};

}  // namespace cs::carbon
