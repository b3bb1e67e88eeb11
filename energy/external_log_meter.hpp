// An external power log (wall-plug meter, `ipmitool dcmi power reading` poller): CSV rows of
// `timestamp, host, watts`, integrated with linear interpolation for this host.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "energy/meter.hpp"

namespace cs::energy {

struct PowerReading {
  double unix_s = 0.0;
  double watts = 0.0;
};

/// Parses the rows of `host` from a log's text. Timestamps are UTC (`2020-06-01 12:00:00`,
/// ISO 8601 with Z, or unix seconds). Throws MeterError naming `path`:line for a malformed
/// row, a negative power, or a time that does not increase for the host.
std::vector<PowerReading> parse_power_log(const std::string& text, const std::string& host, const std::string& path);

/// The energy of a piecewise-linear power series over [from, to]; outside the series the
/// nearest reading is held.
double integrate_power(const std::vector<PowerReading>& readings, double from_unix_s, double to_unix_s);

class ExternalLogMeter final : public EnergyMeter {
 public:
  /// `now_unix_s` defaults to the system clock. The log is re-read on every read(), so a
  /// poller may keep appending to it.
  ExternalLogMeter(std::string path, std::string host, std::function<double()> now_unix_s = {});
  std::string name() const override { return "external"; }
  MeterKind kind() const override { return MeterKind::kHardware; }
  MeterScope scope() const override { return MeterScope::kNode; }
  std::string unavailable_reason() const override;
  /// Energy from the meter's construction to now.
  Joules read() override;

 private:
  std::vector<PowerReading> load() const;

  std::string path_, host_;
  std::function<double()> now_unix_s_;
  double origin_unix_s_;
};

}  // namespace cs::energy
