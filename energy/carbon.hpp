// Carbon-intensity sources and the conversion of device energy to facility energy and CO2.
#pragma once

#include <memory>
#include <string>

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
  explicit ConstantCarbonSource(double intensity_g_per_kwh);
  double intensity_g_per_kwh(double) const override { return intensity_g_per_kwh_; }
  std::string describe() const override;

 private:
  double intensity_g_per_kwh_;
};

struct Emissions {
  Joules facility_energy;  ///< device energy x PUE
  double intensity_g_per_kwh = 0.0;
  double co2_g = 0.0;
};

/// emissions = device energy / 3.6e6 x PUE x intensity. Throws ConfigError for PUE < 1.
Emissions emissions_at_constant_intensity(Joules device_energy, double pue, double intensity_g_per_kwh);

}  // namespace cs::energy
