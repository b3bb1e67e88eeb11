// Rank 0: hands out trials to whichever worker asks, gathers epochs and results, writes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <map>

#include "io/trial_sink.hpp"
#include "orchestrator/progress.hpp"
#include "orchestrator/transport.hpp"
#include "scheduling/clock.hpp"
#include "scheduling/placement.hpp"
#include "search/pruner.hpp"
#include "search/sampler.hpp"

namespace cs::orchestrator {

struct CoordinatorSummary {
  std::int64_t trials_done = 0;
  std::int64_t trials_failed = 0;
  std::vector<std::string> notes;    ///< workers that left early, and why
  std::string stopped;               ///< why dispatching stopped early (carbon budget, a signal); empty otherwise
  bool interrupted = false;          ///< by a signal: the study is unfinished and can be resumed
  std::vector<io::IdleRecord> idle;  ///< per worker
};

struct CoordinatorOptions {
  std::int64_t budget_trials = 0;
  std::vector<int> workers;                       ///< the ranks that train; the coordinator does not
  search::Pruner* pruner = nullptr;               ///< may be null
  int epochs_per_trial = 1;                       ///< prices the epochs a pruned trial did not run
  std::chrono::milliseconds checkpoint{10'000};   ///< how often the HDF5 file is rewritten
  scheduling::PlacementPolicy* policy = nullptr;  ///< null: fifo
  const scheduling::Clock* clock = nullptr;       ///< null: the wall clock
  std::vector<scheduling::SiteState> sites;       ///< for placement and idle pricing
  std::map<int, std::size_t> worker_site;         ///< rank -> index into sites
  double idle_power_w = 0.0;                      ///< counted while a worker waits
  std::chrono::milliseconds idle_wait{1000};      ///< longest wait for a message when nothing is due
  /// Polled after every batch: a non-zero signal number stops dispatching (running trials
  /// finish and are kept; the file is flushed at once). Null: never.
  std::function<int()> stop_signal;
};

class Coordinator {
 public:
  Coordinator(Transport& transport, search::Sampler& sampler, io::TrialSink& trials, ProgressSink& progress,
              CoordinatorOptions options);

  /// Takes the finished trials of an interrupted run: they are not run again, and the
  /// sampler observes them (in trial order) as if never interrupted.
  void resume(const std::vector<io::TrialResult>& finished);

  /// Runs until every trial is done or no worker is left; returns when every worker has
  /// been told to shut down or has left.
  CoordinatorSummary run();

 private:
  /// Assigns the next trial, or tells the worker to shut down; true when it assigned.
  bool on_ready(int worker);
  /// Asks the placement policy which idle workers get a trial now; returns how many were shut
  /// down, and sets `review_at` when the policy wants to be asked again.
  int dispatch(double& review_at);
  /// Ends a worker's idle interval at `now`, pricing its idle power.
  void end_idle(const scheduling::IdleWorker& worker, double now);
  scheduling::PlacementContext context(double now) const;
  /// Adds the pruning estimate and journals the result; it counts once the group is committed.
  void record(io::TrialResult& result);
  void count(const io::TrialResult& result);
  void on_epoch(int worker, const EpochReport& report);
  /// The messages that have arrived, waiting at most until `review_at` (pricing time) or idle_wait.
  std::vector<Envelope> take_batch(double review_at);
  /// Acts on one message; returns 1 when its worker left the study.
  int handle(Envelope& envelope);
  /// A stop signal stops dispatching and flushes the file at once.
  void check_stop_signal();

  Transport& transport_;
  search::Sampler& sampler_;
  io::TrialSink& store_;
  ProgressSink& progress_;
  CoordinatorOptions options_;
  double completed_epoch_energy_j_ = 0.0;  ///< over completed trials, for the pruning estimate
  std::int64_t completed_epochs_ = 0;
  std::vector<std::int64_t> todo_;  ///< trial ids still to run, ascending
  std::size_t next_todo_ = 0;
  bool exhausted_ = false;
  std::vector<search::TrialSpec> pending_;
  std::map<std::int64_t, std::size_t> pending_index_;  ///< trial id -> position in pending_
  CoordinatorSummary summary_;
  scheduling::WallClock wall_clock_;
  const scheduling::Clock& clock_;
  std::unique_ptr<scheduling::PlacementPolicy> fifo_;
  scheduling::PlacementPolicy& policy_;
  std::vector<scheduling::IdleWorker> idle_;
  std::map<int, double> running_co2_g_;  ///< rank -> expected CO2 of its trial
  double running_co2_sum_g_ = 0.0;
  std::map<int, io::IdleRecord> idle_records_;
  double co2_done_g_ = 0.0, completed_duration_s_ = 0.0, completed_energy_j_ = 0.0;
  std::int64_t completed_ = 0;
  bool stopped_ = false;
};

}  // namespace cs::orchestrator
