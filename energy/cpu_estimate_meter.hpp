// The CPU/RAM software estimate: process CPU time x per-core power, plus resident memory x power per GiB.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "energy/meter.hpp"

namespace cs::energy {

/// A CPU's thermal design power and its physical core count.
struct CpuPower {
  std::string model;
  double tdp_w = 0.0;
  int cores = 1;
  std::string source;  ///< where the numbers came from: table, override or fallback
  double watts_per_core() const { return tdp_w / cores; }
};

/// Per-core power used when the CPU is not in the table (Green Algorithms' default for any CPU).
inline constexpr double kFallbackWattsPerCore = 12.0;
/// Memory power per GiB (CodeCarbon's 3 W per 8 GB).
inline constexpr double kRamWattsPerGib = 0.375;

/// Looks the model name up in the built-in TDP table; nullopt when unknown.
std::optional<CpuPower> lookup_cpu_power(const std::string& model_name);

/// Reads /proc/cpuinfo under `proc_root` and returns the table entry, or the per-core fallback.
CpuPower detect_cpu_power(const std::string& proc_root = "/proc");

struct CpuEstimateOptions {
  std::string proc_root = "/proc";  ///< a fake tree in tests
  std::optional<double> tdp_w;      ///< the study file's override
  std::optional<int> cores;
  double ram_w_per_gib = kRamWattsPerGib;
  std::function<double()> now_s;  ///< monotonic seconds; steady_clock when empty
};

class CpuEstimateMeter final : public EnergyMeter {
 public:
  explicit CpuEstimateMeter(CpuEstimateOptions options = {});
  std::string name() const override { return "estimate"; }
  MeterKind kind() const override { return MeterKind::kSoftware; }
  MeterScope scope() const override { return MeterScope::kProcess; }
  std::string unavailable_reason() const override;
  Joules read() override;

  const CpuPower& cpu() const { return cpu_; }

 private:
  double process_cpu_s() const;
  double resident_gib() const;

  CpuEstimateOptions options_;
  CpuPower cpu_;
  double ram_j_ = 0.0;
  double last_now_s_ = -1.0;
};

}  // namespace cs::energy
