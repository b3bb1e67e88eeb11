// The coordinator's progress line and the end-of-study summary per site.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "base/enum_names.hpp"
#include "io/trial_result.hpp"

namespace cs::orchestrator {

/// What the coordinator tells the person watching: the progress line, or a recorder in tests.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void trial_started() = 0;
  virtual void trial_finished(const io::TrialResult& result) = 0;
  /// A started trial that will run again (retried, or its worker was lost): no longer running.
  /// `attempt` is its recorded attempt, whose cost counts; null when nothing came back.
  virtual void trial_requeued(const io::TrialResult* attempt) = 0;
  /// A trial finished by an earlier, interrupted run: counted, but not in the ETA's rate.
  virtual void trial_resumed(const io::TrialResult& result) = 0;
  /// A line for the person: a warning, why dispatching stopped.
  virtual void note(const std::string& text) = 0;
};

/// How the progress line is shown: redrawn in place (a terminal), as lines at most once per
/// interval plus one at each new best and one at the end (pipes, Slurm logs), or not at all.
enum class ProgressStyle { kTty, kLines, kOff };
inline constexpr std::array<EnumName<ProgressStyle>, 3> kProgressStyleNames{
    {{ProgressStyle::kTty, "tty"}, {ProgressStyle::kLines, "lines"}, {ProgressStyle::kOff, "off"}}};

/// `--progress auto`: tty when `stderr_is_tty`; else the CARBONSWEEP_PROGRESS environment
/// variable (tty, lines or off: under mpirun rank 0's stderr is a pipe even when the user
/// watches a terminal, so `mpirun -x CARBONSWEEP_PROGRESS=tty` says so); else lines.
ProgressStyle auto_progress_style(bool stderr_is_tty);

class Progress final : public ProgressSink {
 public:
  /// `interval`: the shortest time between two lines in the kLines style.
  Progress(std::ostream& out, std::int64_t total, ProgressStyle style,
           std::chrono::milliseconds interval = std::chrono::seconds(30));

  void trial_started() override;
  void trial_finished(const io::TrialResult& result) override;
  void trial_requeued(const io::TrialResult* attempt) override;
  void trial_resumed(const io::TrialResult& result) override;
  void note(const std::string& text) override;
  /// Ends the in-place line, or prints the last line.
  void close();

  /// The current line: done/total, running, failed, best objective, kWh, gCO2, ETA.
  std::string line() const;

 private:
  /// `new_best`: a line is due whatever the interval.
  void draw(bool new_best = false);
  /// Counts a finished trial; true when it set a new best.
  bool add(const io::TrialResult& result);

  std::ostream& out_;
  std::int64_t total_;
  ProgressStyle style_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_, last_line_;
  bool printed_since_last_event_ = false;
  std::int64_t done_ = 0, running_ = 0, failed_ = 0, resumed_ = 0;
  double best_objective_ = -1e300;
  std::int64_t best_trial_ = -1;
  double facility_energy_j_ = 0.0, co2_g_ = 0.0;
};

/// Formats seconds as "1h02m", "3m05s" or "42s".
std::string format_duration(double seconds);

/// A table per site: trials, device and facility energy (kWh), CO2 (g), best objective.
std::string site_summary(const std::vector<io::TrialResult>& results);
/// The same, for trials that a visitor hands over one at a time (ResultsStore::for_each_result).
std::string site_summary(const std::function<void(const std::function<void(const io::TrialResult&)>&)>& each);

}  // namespace cs::orchestrator
