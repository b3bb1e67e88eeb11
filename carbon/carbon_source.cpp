// The constant carbon source.
#include "carbon/carbon_source.hpp"

#include <cmath>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::carbon {

ConstantCarbonSource::ConstantCarbonSource(double intensity_g_per_kwh, std::string description)
    : intensity_g_per_kwh_(intensity_g_per_kwh), description_(std::move(description)) {
  if (!std::isfinite(intensity_g_per_kwh) || intensity_g_per_kwh < 0.0) {
    throw ConfigError(
        fmt::format("carbon intensity must be a non-negative number of gCO2/kWh, got {}", intensity_g_per_kwh));
  }
}

std::string ConstantCarbonSource::describe() const {
  return description_.empty() ? fmt::format("constant {} gCO2/kWh", intensity_g_per_kwh_) : description_;
}

}  // namespace cs::carbon
