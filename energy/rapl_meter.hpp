// RAPL through powercap sysfs: package and DRAM energy counters of every socket, with wrap-around.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "energy/meter.hpp"

namespace cs::energy {

class RaplMeter final : public EnergyMeter {
 public:
  /// Finds the zones under `root` (a fake tree in tests). Never throws: a problem is reported
  /// by unavailable_reason().
  explicit RaplMeter(std::string root = "/sys/class/powercap");
  std::string name() const override { return "rapl"; }
  MeterKind kind() const override { return MeterKind::kHardware; }
  MeterScope scope() const override { return MeterScope::kNode; }
  std::string unavailable_reason() const override { return reason_; }
  /// Sum of package and DRAM energy since construction (core and uncore lie inside the
  /// package and are not added again). Throws MeterError naming a file that cannot be read.
  Joules read() override;
  /// Energy since construction per domain (package, core, uncore, dram), summed over the
  /// sockets, as of the last read().
  std::map<std::string, double> domain_energy_j() const;

  struct Zone {
    std::string path;  ///< the zone's directory
    std::string name;  ///< package-0, dram, core, uncore, ...
    std::uint64_t max_range_uj = 0;
    std::uint64_t last_uj = 0;
    double total_j = 0.0;  ///< accumulated across wrap-arounds
    bool counted = false;  ///< in the total: packages and DRAM (core and uncore lie inside the package)
  };
  const std::vector<Zone>& zones() const { return zones_; }

 private:
  std::vector<Zone> zones_;  ///< every zone: package, core, uncore and dram of every socket
  std::string reason_;
};

}  // namespace cs::energy
