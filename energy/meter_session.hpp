// One sampling thread per rank that reads every meter at a fixed interval.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/power_sample.hpp"
#include "energy/meter.hpp"

namespace cs::energy {

struct MeterEnergy {
  std::string name;
  MeterKind kind = MeterKind::kSoftware;
  Joules energy;
};

struct SessionReport {
  std::vector<MeterEnergy> energy;  ///< per meter, since start()
  std::vector<PowerSample> samples;
  double duration_s = 0.0;
  double sampler_cpu_s = 0.0;  ///< the sampling thread's own CPU time
  /// Per meter, for meters with a counter and polled power: each CounterCheck value's change
  /// over the session (nullopt for the others).
  std::vector<std::optional<CounterCheck>> counter_checks;
};

class MeterSession {
 public:
  /// The session borrows the meters; they must outlive it.
  MeterSession(std::vector<EnergyMeter*> meters, std::chrono::milliseconds interval);
  ~MeterSession();
  MeterSession(const MeterSession&) = delete;
  MeterSession& operator=(const MeterSession&) = delete;

  /// Takes the first reading and starts the sampling thread.
  void start();
  /// Energy per meter since start(); thread-safe, for per-epoch accounting.
  std::vector<Joules> energy_so_far();
  /// Stops the thread, takes a last reading, and returns everything recorded.
  SessionReport stop();

 private:
  void sample_once();
  double elapsed_s() const;

  std::vector<EnergyMeter*> meters_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::vector<Joules> first_, last_;
  std::vector<std::optional<CounterCheck>> first_checks_;
  std::vector<double> last_t_s_;
  std::vector<PowerSample> samples_;
  std::chrono::steady_clock::time_point start_;
  double sampler_cpu_s_ = 0.0;
  bool running_ = false;  ///< between start() and stop(): the meters know of the session
  std::jthread thread_;
};

}  // namespace cs::energy
