// Sharing a node-level meter (RAPL, a wall meter) among the processes that ran on the node.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "energy/meter.hpp"

namespace cs::energy {

/// This process's share of a shared meter's energy over one interval: its busy time over the
/// busy time of everything that shares the meter in that interval, clamped to [0, 1]. For a
/// node meter the busy time is CPU time (ranks and any other process split the node by it); for
/// a GPU it is the time each process spent in a trial on it (energy/gpu_busy_board.hpp). The
/// shares of everything that ran add up to at most 1.
double busy_share(double own_busy_s, double all_busy_s);

/// Cumulative busy seconds: this process's, and those of everything sharing the meter.
struct BusyTimes {
  double own_s = 0.0;
  double all_s = 0.0;
};

/// CPU times from procfs under `proc_root` (a fake tree in tests): own_s this process's,
/// all_s the whole node's busy CPU time.
std::function<BusyTimes()> proc_cpu_times(const std::string& proc_root = "/proc");

/// Wraps a node-scope meter so that read() returns this process's share only: every read
/// splits the node energy since the previous read by busy_share() of the CPU time over the same
/// interval.
/// The meter is read at the session's sampling interval, so the shares follow the load.
class ApportionedMeter final : public EnergyMeter {
 public:
  ApportionedMeter(std::unique_ptr<EnergyMeter> node_meter, std::function<BusyTimes()> cpu_times);
  std::string name() const override { return node_meter_->name(); }
  MeterKind kind() const override { return node_meter_->kind(); }
  MeterScope scope() const override { return MeterScope::kProcess; }
  std::string unavailable_reason() const override;
  Joules read() override;
  void session_started() override { node_meter_->session_started(); }
  void session_stopped() override { node_meter_->session_stopped(); }
  /// The node's energy since the first read, unshared.
  Joules node_energy() const { return node_total_; }

 private:
  std::unique_ptr<EnergyMeter> node_meter_;
  std::function<BusyTimes()> cpu_times_;
  bool started_ = false;
  Joules last_node_;
  BusyTimes last_cpu_;
  Joules share_total_, node_total_;
};

}  // namespace cs::energy
