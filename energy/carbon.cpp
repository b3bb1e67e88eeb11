// Carbon arithmetic: facility energy through PUE, then CO2 through intensity.
#include "energy/carbon.hpp"

#include <cmath>

#include <fmt/format.h>

#include "errors/error.hpp"

namespace cs::energy {

ConstantCarbonSource::ConstantCarbonSource(double intensity_g_per_kwh) : intensity_g_per_kwh_(intensity_g_per_kwh) {
  if (!std::isfinite(intensity_g_per_kwh) || intensity_g_per_kwh < 0.0) {
    throw ConfigError(
        fmt::format("carbon intensity must be a non-negative number of gCO2/kWh, got {}", intensity_g_per_kwh));
  }
}

std::string ConstantCarbonSource::describe() const { return fmt::format("constant {} gCO2/kWh", intensity_g_per_kwh_); }

Emissions emissions_at_constant_intensity(Joules device_energy, double pue, double intensity_g_per_kwh) {
  if (!std::isfinite(pue) || pue < 1.0) throw ConfigError(fmt::format("PUE must be >= 1, got {}", pue));
  const Joules facility{device_energy.value * pue};
  return {facility, intensity_g_per_kwh, to_kwh(facility) * intensity_g_per_kwh};
}

}  // namespace cs::energy
