// powercap sysfs reading.
#include "energy/rapl_meter.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::energy {

namespace {

namespace fs = std::filesystem;

/// Reads one unsigned integer from a sysfs file; throws MeterError with the path and the cause.
std::uint64_t read_counter(const fs::path& file) {
  std::ifstream in(file);
  std::uint64_t value = 0;
  if (!in || !(in >> value)) {
    const bool exists = fs::exists(file);
    throw MeterError(fmt::format(
        "rapl: {} {}; RAPL needs read access to powercap (run as root, or `sudo chmod o+r {}`), or use the estimate "
        "meter",
        file.string(), exists ? "exists but cannot be read" : "has vanished", file.string()));
  }
  return value;
}

std::string read_name(const fs::path& zone) {
  std::ifstream in(zone / "name");
  std::string name;
  in >> name;
  return name;
}

}  // namespace

RaplMeter::RaplMeter(std::string root) {
  std::error_code ec;
  std::vector<fs::path> candidates;
  if (fs::is_directory(root, ec)) {
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const auto file = entry.path().filename().string();
      if (file.rfind("intel-rapl:", 0) == 0) candidates.push_back(entry.path());
    }
  }
  std::sort(candidates.begin(), candidates.end());
  for (const auto& zone : candidates) {
    const std::string name = read_name(zone);
    // Packages are intel-rapl:N; their subzones intel-rapl:N:M are core, uncore or dram.
    const std::string file = zone.filename().string();
    const bool package = std::count(file.begin(), file.end(), ':') == 1;
    try {
      Zone z{zone.string(),
             name,
             read_counter(zone / "max_energy_range_uj"),
             read_counter(zone / "energy_uj"),
             0.0,
             package || name == "dram"};
      zones_.push_back(z);
    } catch (const MeterError& e) {
      reason_ = e.what();
      zones_.clear();
      return;
    }
  }
  if (zones_.empty()) {
    reason_ = fmt::format(
        "rapl: no powercap zones under {} (not an Intel or AMD host with the powercap driver, or a "
        "virtual machine that hides it)",
        root);
  }
}

Joules RaplMeter::read() {
  if (!reason_.empty()) throw MeterError(reason_);
  double total = 0.0;
  for (auto& z : zones_) {
    const std::uint64_t now = read_counter(fs::path(z.path) / "energy_uj");
    // The counter wraps at max_energy_range_uj.
    const std::uint64_t delta = now >= z.last_uj ? now - z.last_uj : z.max_range_uj - z.last_uj + now;
    z.total_j += static_cast<double>(delta) * 1e-6;
    z.last_uj = now;
    if (z.counted) total += z.total_j;
  }
  return {total};
}

std::map<std::string, double> RaplMeter::domain_energy_j() const {
  std::map<std::string, double> out;
  for (const auto& z : zones_) {
    // "package-0", "package-1" -> "package"; core, uncore and dram keep their names.
    out[z.name.substr(0, z.name.find('-'))] += z.total_j;
  }
  return out;
}

}  // namespace cs::energy
