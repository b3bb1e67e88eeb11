// The coordinator's progress line and the end-of-study summary per site.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "io/trial_result.hpp"

namespace cs::orchestrator {

/// What the coordinator tells the person watching: the progress line, or a recorder in tests.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void trial_started() = 0;
  virtual void trial_finished(const io::TrialResult& result) = 0;
  /// A trial finished by an earlier, interrupted run: counted, but not in the ETA's rate.
  virtual void trial_resumed(const io::TrialResult& result) = 0;
  /// A line for the person: a warning, why dispatching stopped.
  virtual void note(const std::string& text) = 0;
};

class Progress final : public ProgressSink {
 public:
  /// On a TTY the line is redrawn in place; otherwise one line is printed per event (Slurm logs).
  Progress(std::ostream& out, std::int64_t total, bool tty);

  void trial_started() override;
  void trial_finished(const io::TrialResult& result) override;
  void trial_resumed(const io::TrialResult& result) override;
  void note(const std::string& text) override;
  /// Ends the in-place line, if any.
  void close();
  /// Draws at most once per `interval` (a simulation finishes thousands of trials a second).
  void set_min_interval(std::chrono::milliseconds interval) { min_interval_ = interval; }

  /// The current line: done/total, running, failed, best objective, kWh, gCO2, ETA.
  std::string line() const;

 private:
  void draw();
  void add(const io::TrialResult& result);

  std::ostream& out_;
  std::int64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::chrono::milliseconds min_interval_{0};
  std::int64_t done_ = 0, running_ = 0, failed_ = 0, resumed_ = 0;
  double best_objective_ = -1e300;
  std::int64_t best_trial_ = -1;
  double facility_energy_j_ = 0.0, co2_g_ = 0.0;
};

/// Formats seconds as "1h02m", "3m05s" or "42s".
std::string format_duration(double seconds);

/// A table per site: trials, device and facility energy (kWh), CO2 (g), best objective.
std::string site_summary(const std::vector<io::TrialResult>& results);

}  // namespace cs::orchestrator
