// The EnergyMeter interface every energy source implements.
#pragma once

#include <optional>
#include <string>

#include "base/units.hpp"

namespace cs::energy {

enum class MeterKind { kHardware, kSoftware };

inline const char* to_string(MeterKind kind) { return kind == MeterKind::kHardware ? "hardware" : "software"; }

/// What a meter's reading covers: this process, the whole node (shared by co-located ranks),
/// or the devices this rank owns.
enum class MeterScope { kProcess, kNode, kDevice };

inline const char* to_string(MeterScope scope) {
  switch (scope) {
    case MeterScope::kProcess: return "process";
    case MeterScope::kNode: return "node";
    case MeterScope::kDevice: return "device";
  }
  return "?";
}

/// A meter with an energy counter and a power reading, both cumulative since an origin, so
/// that a session can cross-check them (energy/nvml_meter.hpp).
struct CounterCheck {
  double energy_j = 0.0;   ///< what the meter reports (whole device, before any sharing)
  double counter_j = 0.0;  ///< of that, what the hardware counter confirmed
  double polled_j = 0.0;   ///< the polled power integrated over the same time
  bool has_counter = true;
};

class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  virtual std::string name() const = 0;
  virtual MeterKind kind() const = 0;
  virtual MeterScope scope() const = 0;
  /// Empty when the meter can read here; otherwise why not, and how to fix it.
  virtual std::string unavailable_reason() const = 0;
  bool available() const { return unavailable_reason().empty(); }
  /// Cumulative energy since an arbitrary origin. Called from one thread at a time.
  virtual Joules read() = 0;
  /// A meter session (one trial, or the idle baseline) starts before its first read and stops
  /// after its last: a meter shared by busy time (a GPU) marks this process busy in between.
  virtual void session_started() {}
  virtual void session_stopped() {}
  /// Meters with both a counter and polled power; nullopt for the others.
  virtual std::optional<CounterCheck> counter_check() const { return std::nullopt; }
};

}  // namespace cs::energy
