// Carbon arithmetic: facility energy through PUE, then CO2 through intensity.
#include "carbon/emissions.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::carbon {

Emissions emissions_at_constant_intensity(Joules device_energy, double pue, double intensity_g_per_kwh) {
  if (!std::isfinite(pue) || pue < 1.0) throw ConfigError(fmt::format("PUE must be >= 1, got {}", pue));
  const Joules facility{device_energy.value * pue};
  return {facility, intensity_g_per_kwh, to_kwh(facility) * intensity_g_per_kwh};
}

Emissions integrate_emissions(const std::vector<PowerSample>& samples, Joules device_energy, double duration_s,
                              double pue, const CarbonSource& source, double price_start_unix_s, double time_scale) {
  if (!std::isfinite(pue) || pue < 1.0) throw ConfigError(fmt::format("PUE must be >= 1, got {}", pue));
  double weighted_j = 0.0, sampled_j = 0.0, previous_t = 0.0;  // sum of E_i x I_i, and of E_i
  for (const auto& s : samples) {
    const double energy_j = s.power_w * (s.t_s - previous_t);
    weighted_j += energy_j * source.intensity_g_per_kwh(price_start_unix_s + 0.5 * (previous_t + s.t_s) * time_scale);
    sampled_j += energy_j;
    previous_t = s.t_s;
  }
  // Energy the samples do not cover (none taken, or the last stretch) at the intensity of its
  // own interval.
  const double rest_j = device_energy.value - sampled_j;
  if (std::abs(rest_j) > 1e-9 * std::max(1.0, device_energy.value)) {
    const double mid = 0.5 * (previous_t + std::max(previous_t, duration_s));
    weighted_j += rest_j * source.intensity_g_per_kwh(price_start_unix_s + mid * time_scale);
  }
  const Joules facility{device_energy.value * pue};
  const double mean_intensity =
      device_energy.value > 0 ? weighted_j / device_energy.value : source.intensity_g_per_kwh(price_start_unix_s);
  return {facility, mean_intensity, weighted_j * pue / kJoulesPerKwh};
}

}  // namespace cs::carbon
