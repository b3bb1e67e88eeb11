// Carbon-intensity sources and the conversion of device energy to facility energy and CO2.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "energy/meter_session.hpp"
#include "energy/units.hpp"

namespace cs::energy {

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

}  // namespace cs::energy
