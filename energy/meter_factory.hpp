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
  std::string external_log;   ///< the power log of the external meter
  std::string external_host;  ///< its rows for this host (default: this host's name)
};

/// The meter names a study file may use.
const std::vector<std::string>& known_meter_names();

/// Builds one meter, whether or not it can read here. Throws ConfigError for an unknown name.
std::unique_ptr<EnergyMeter> make_meter(const std::string& name, const MeterOptions& options);

/// Throws ConfigError for an unknown name, and MeterError when a named meter cannot read here
/// (never a silent fallback to another meter).
std::vector<std::unique_ptr<EnergyMeter>> make_meters(const std::vector<std::string>& names,
                                                      const MeterOptions& options);

}  // namespace cs::energy
