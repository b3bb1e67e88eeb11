// Pricing energy at a site: device energy through PUE to facility energy, then to CO2 through
// the grid's intensity over time. The one home of the CO2 arithmetic.
#pragma once

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

/// emissions = device energy / 3.6e6 x PUE x intensity. Throws ConfigError for PUE < 1.
Emissions emissions_at_constant_intensity(Joules device_energy, double pue, double intensity_g_per_kwh);

/// Integrates power x PUE x intensity(t) over a trial, interval by interval of its own power
/// samples (never mean power x mean intensity). `samples` hold one meter's series: t_s since
/// the trial started and the mean power since the previous sample. The intensity of an
/// interval is read at its midpoint, in pricing time: `price_start_unix_s + t_s x time_scale`.
/// Without samples the trial is one interval of constant power. The returned intensity is
/// the energy-weighted mean the trial saw.
Emissions integrate_emissions(const std::vector<PowerSample>& samples, Joules device_energy, double duration_s,
                              double pue, const CarbonSource& source, double price_start_unix_s,
                              double time_scale = 1.0);

}  // namespace cs::carbon
