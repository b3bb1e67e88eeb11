// Carbon arithmetic: facility energy through PUE, then CO2 through intensity.
#include "carbon/emissions.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/utc_time.hpp"

namespace cs::carbon {

namespace {

void check_pue(double pue) {
  if (!std::isfinite(pue) || pue < 1.0) throw ConfigError(fmt::format("PUE must be >= 1, got {}", pue));
}

}  // namespace

double co2_g(Joules device_energy, double pue, double intensity_g_per_kwh) {
  return to_kwh(device_energy) * pue * intensity_g_per_kwh;
}

std::optional<Emissions> integrate_emissions(const std::vector<PowerSample>& samples, Joules device_energy,
                                             double duration_s, double pue, const CarbonSource& source,
                                             double price_start_unix_s, double time_scale) {
  check_pue(pue);
  // Sums of E_i x I_i and of E_i over the sampled intervals, each at its midpoint's intensity.
  double weighted_j = 0.0, sampled_j = 0.0, previous_t = 0.0;
  const auto add = [&](double energy_j, double mid_t_s) {
    const auto intensity = source.intensity_g_per_kwh(price_start_unix_s + mid_t_s * time_scale);
    if (!intensity) return false;
    weighted_j += energy_j * *intensity;
    return true;
  };
  for (const auto& s : samples) {
    const double energy_j = s.power_w * (s.t_s - previous_t);
    if (!add(energy_j, 0.5 * (previous_t + s.t_s))) return std::nullopt;
    sampled_j += energy_j;
    previous_t = s.t_s;
  }
  // Energy the samples do not cover (none taken, or the last stretch) at the intensity of its
  // own interval.
  const double rest_j = device_energy.value - sampled_j;
  if (std::abs(rest_j) > 1e-9 * std::max(1.0, device_energy.value) &&
      !add(rest_j, 0.5 * (previous_t + std::max(previous_t, duration_s)))) {
    return std::nullopt;
  }
  double mean_intensity = 0.0;
  if (device_energy.value > 0) {
    mean_intensity = weighted_j / device_energy.value;
  } else if (const auto at_start = source.intensity_g_per_kwh(price_start_unix_s)) {
    mean_intensity = *at_start;
  } else {
    return std::nullopt;
  }
  return Emissions{Joules{device_energy.value * pue}, mean_intensity, co2_g(device_energy, pue, mean_intensity)};
}

TrialPricing price_trial(const std::vector<PowerSample>& samples, Joules device_energy, double duration_s, double pue,
                         const CarbonSource& average, const CarbonSource* marginal, double price_start_unix_s,
                         double time_scale) {
  TrialPricing priced;
  const auto uncovered = [&](const CarbonSource& source) {
    return fmt::format(
        "pricing: {} has no intensity for the trial's pricing time {} to {}; extend the trace or set "
        "extrapolation = \"hold\"",
        source.describe(), format_utc_timestamp(price_start_unix_s),
        format_utc_timestamp(price_start_unix_s + duration_s * time_scale));
  };
  const auto at_average =
      integrate_emissions(samples, device_energy, duration_s, pue, average, price_start_unix_s, time_scale);
  if (!at_average) {
    priced.average = {Joules{device_energy.value * pue}, std::nan(""), std::nan("")};
    priced.error = uncovered(average);
    return priced;
  }
  priced.average = *at_average;
  if (marginal) {
    const auto at_marginal =
        integrate_emissions(samples, device_energy, duration_s, pue, *marginal, price_start_unix_s, time_scale);
    if (at_marginal) {
      priced.co2_marginal_g = at_marginal->co2_g;
    } else {
      priced.error = uncovered(*marginal);
    }
  }
  return priced;
}

}  // namespace cs::carbon
