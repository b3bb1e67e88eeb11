// CPU-time apportioning of node-level energy.
#include "energy/apportion.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "energy/proc_cpu.hpp"

namespace cs::energy {

double busy_share(double own_busy_s, double all_busy_s) {
  if (!(all_busy_s > 0.0) || !(own_busy_s > 0.0)) return 0.0;
  return std::clamp(own_busy_s / all_busy_s, 0.0, 1.0);
}

std::function<BusyTimes()> proc_cpu_times(const std::string& proc_root) {
  return [proc_root] { return BusyTimes{process_cpu_s(proc_root), node_busy_cpu_s(proc_root)}; };
}

ApportionedMeter::ApportionedMeter(std::unique_ptr<EnergyMeter> node_meter, std::function<BusyTimes()> cpu_times)
    : node_meter_(std::move(node_meter)), cpu_times_(std::move(cpu_times)) {}

std::string ApportionedMeter::unavailable_reason() const {
  if (auto why = node_meter_->unavailable_reason(); !why.empty()) return why;
  try {
    (void)cpu_times_();
    return {};
  } catch (const MeterError& e) {
    return std::string("cannot apportion the node's energy: ") + e.what();
  }
}

Joules ApportionedMeter::read() {
  const Joules node = node_meter_->read();
  const BusyTimes cpu = cpu_times_();
  if (started_) {
    const Joules delta = node - last_node_;
    node_total_ += delta;
    share_total_ += Joules{delta.value * busy_share(cpu.own_s - last_cpu_.own_s, cpu.all_s - last_cpu_.all_s)};
  }
  started_ = true;
  last_node_ = node;
  last_cpu_ = cpu;
  return share_total_;
}

}  // namespace cs::energy
