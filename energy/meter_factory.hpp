// Builds the meters a study names.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "energy/meter.hpp"

namespace cs::energy {

struct MeterOptions {
  std::optional<double> cpu_tdp_w;
  std::optional<int> cpu_cores;
};

/// The meter names a study file may use.
const std::vector<std::string>& known_meter_names();

/// Throws ConfigError for an unknown name, and MeterError when a named meter cannot read here.
std::vector<std::unique_ptr<EnergyMeter>> make_meters(const std::vector<std::string>& names,
                                                      const MeterOptions& options);

}  // namespace cs::energy
