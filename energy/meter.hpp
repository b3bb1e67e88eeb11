// The EnergyMeter interface every energy source implements.
#pragma once

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
};

}  // namespace cs::energy
