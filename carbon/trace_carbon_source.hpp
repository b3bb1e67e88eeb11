// A carbon-intensity time series from CSV (`timestamp, gCO2/kWh`), interpolated linearly or stepwise.
#pragma once

#include <string>
#include <vector>

#include "base/enum_names.hpp"
#include "carbon/carbon_source.hpp"

namespace cs::carbon {

enum class Interpolation { kLinear, kStep };
inline constexpr std::array<EnumName<Interpolation>, 2> kInterpolationNames{
    {{Interpolation::kLinear, "linear"}, {Interpolation::kStep, "step"}}};
/// Outside the trace's time range: no value (kError) or hold the nearest value (kHold).
enum class Extrapolation { kError, kHold };
inline constexpr std::array<EnumName<Extrapolation>, 2> kExtrapolationNames{
    {{Extrapolation::kError, "error"}, {Extrapolation::kHold, "hold"}}};

class TraceCarbonSource final : public CarbonSource {
 public:
  /// Reads and validates the file (plain or gzip-compressed, e.g. `.csv.gz`): a header whose second column is an
  /// intensity in g/kWh, then `YYYY-MM-DD HH:MM:SS` (or ISO 8601 with T and Z; UTC) and a value >= 0 per row, in
  /// increasing time. Throws ConfigError naming FILE:LINE. Steps longer than `gap_tolerance_s`
  /// are kept and listed in gaps().
  TraceCarbonSource(const std::string& path, Interpolation interpolation, Extrapolation extrapolation,
                    double gap_tolerance_s = 3 * 3600.0);
  /// From points already in memory (tests, generated traces); same validation.
  TraceCarbonSource(std::vector<TracePoint> points, Interpolation interpolation, Extrapolation extrapolation,
                    std::string name, double gap_tolerance_s = 3 * 3600.0);

  /// Empty when `unix_s` lies outside the trace and extrapolation is kError.
  std::optional<double> intensity_g_per_kwh(double unix_s) const override;
  std::string describe() const override;

  std::span<const TracePoint> points() const override { return points_; }
  std::span<const TraceGap> gaps() const override { return gaps_; }

 private:
  void validate(double gap_tolerance_s);

  std::vector<TracePoint> points_;
  Interpolation interpolation_;
  Extrapolation extrapolation_;
  std::string name_;
  std::vector<TraceGap> gaps_;
};

}  // namespace cs::carbon
