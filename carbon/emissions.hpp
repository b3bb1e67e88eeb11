// Pricing energy at a site: device energy through PUE to facility energy, then to CO2 through
// the grid's intensity over time. The one home of the CO2 arithmetic.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "base/power_sample.hpp"
#include "base/units.hpp"
#include "carbon/carbon_source.hpp"

namespace cs::carbon {

struct Emissions {
  Joules facility_energy;  ///< device energy x PUE
  double intensity_g_per_kwh = 0.0;
  double co2_g = 0.0;
};

/// gCO2 = device energy x PUE / 3.6e6 J/kWh x intensity: the one CO2 formula.
double co2_g(Joules device_energy, double pue, double intensity_g_per_kwh);

/// Integrates power x PUE x intensity(t) over a trial, interval by interval of its own power
/// samples (never mean power x mean intensity). `samples` hold one meter's series: t_s since
/// the trial started and the mean power since the previous sample. The intensity of an
/// interval is read at its midpoint, in pricing time: `price_start_unix_s + t_s x time_scale`.
/// Without samples the trial is one interval of constant power. The returned intensity is
/// the energy-weighted mean the trial saw. Empty when the source has no intensity for some
/// interval (a trace that does not cover the trial). Throws ConfigError for PUE < 1.
std::optional<Emissions> integrate_emissions(const std::vector<PowerSample>& samples, Joules device_energy,
                                             double duration_s, double pue, const CarbonSource& source,
                                             double price_start_unix_s, double time_scale = 1.0);

/// A trial priced at its site, at the average intensity and, where the site has one, at a
/// marginal one.
struct TrialPricing {
  Emissions average;  ///< facility energy always; intensity and CO2 NaN when it could not be priced
  double co2_marginal_g = std::nan("");
  std::string error;  ///< empty when priced; else why not, for the trial's `error`
};

/// integrate_emissions at `average` and `marginal` (may be null) over the same samples and times.
TrialPricing price_trial(const std::vector<PowerSample>& samples, Joules device_energy, double duration_s, double pue,
                         const CarbonSource& average, const CarbonSource* marginal, double price_start_unix_s,
                         double time_scale = 1.0);

}  // namespace cs::carbon
