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
  int local_rank = 0;         ///< this rank's index among the ranks of its node (GPU binding)
  /// Node-scope meters (rapl, external) return this process's CPU-time share of the node, and
  /// nvml its busy-time share of each GPU it shares with other processes.
  bool apportion_shared_meters = true;
  std::string nvml_library = "libnvidia-ml.so.1";
};

/// What a meter name measures, without building it (for the /meters table).
struct MeterTraits {
  MeterKind kind = MeterKind::kSoftware;
  MeterScope scope = MeterScope::kProcess;  ///< of the raw reading, before apportioning
  /// How a run shares the reading among the processes it covers: "cpu_time" (node meters),
  /// "gpu_utilisation" (nvml: NVML's per-process utilisation, else busy time), or empty (a process meter, not shared).
  std::string shared_by;
};
MeterTraits meter_traits(const std::string& name);

/// The meter names a study file may use.
const std::vector<std::string>& known_meter_names();

/// Builds one meter, whether or not it can read here. Throws ConfigError for an unknown name.
std::unique_ptr<EnergyMeter> make_meter(const std::string& name, const MeterOptions& options);

/// Throws ConfigError for an unknown name, and MeterError when a named meter cannot read here
/// (never a silent fallback to another meter).
std::vector<std::unique_ptr<EnergyMeter>> make_meters(const std::vector<std::string>& names,
                                                      const MeterOptions& options);

}  // namespace cs::energy
