// Sharing a node-level meter (RAPL, a wall meter) among the processes that ran on the node.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "energy/meter.hpp"

namespace cs::energy {

/// This process's share of a node's energy over one interval: its CPU time over the node's
/// busy CPU time in that interval, clamped to [0, 1]. Ranks (and any other process) sharing
/// the node split it by CPU time, so the shares of everything that ran add up to at most 1.
double cpu_share(double own_cpu_s, double node_busy_cpu_s);

struct CpuTimes {
  double own_s = 0.0;        ///< this process, cumulative
  double node_busy_s = 0.0;  ///< the whole node, cumulative
};

/// procfs under `proc_root` (a fake tree in tests).
std::function<CpuTimes()> proc_cpu_times(const std::string& proc_root = "/proc");

/// Wraps a node-scope meter so that read() returns this process's share only: every read
/// splits the node energy since the previous read by cpu_share() over the same interval.
/// The meter is read at the session's sampling interval, so the shares follow the load.
class ApportionedMeter final : public EnergyMeter {
 public:
  ApportionedMeter(std::unique_ptr<EnergyMeter> node_meter, std::function<CpuTimes()> cpu_times);
  std::string name() const override { return node_meter_->name(); }
  MeterKind kind() const override { return node_meter_->kind(); }
  MeterScope scope() const override { return MeterScope::kProcess; }
  std::string unavailable_reason() const override;
  Joules read() override;
  /// The node's energy since the first read, unshared.
  Joules node_energy() const { return node_total_; }

 private:
  std::unique_ptr<EnergyMeter> node_meter_;
  std::function<CpuTimes()> cpu_times_;
  bool started_ = false;
  Joules last_node_;
  CpuTimes last_cpu_;
  Joules share_total_, node_total_;
};

}  // namespace cs::energy
