// Rank 0: hands out trials to whichever worker asks, gathers epochs and results, writes them.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "io/results_store.hpp"
#include "orchestrator/progress.hpp"
#include "orchestrator/transport.hpp"
#include "search/pruner.hpp"
#include "search/sampler.hpp"

namespace cs::orchestrator {

struct CoordinatorSummary {
  std::int64_t trials_done = 0;
  std::int64_t trials_failed = 0;
  std::vector<std::string> notes;  ///< workers that left early, and why
};

class Coordinator {
 public:
  /// `workers` are the ranks that train; the coordinator itself does not. `pruner` may be
  /// null; `epochs_per_trial` prices the epochs a pruned trial did not run.
  Coordinator(Transport& transport, search::Sampler& sampler, io::ResultsStore& store, Progress& progress,
              std::int64_t budget_trials, std::vector<int> workers, search::Pruner* pruner = nullptr,
              int epochs_per_trial = 1);

  /// Runs until every trial is done or no worker is left; returns when every worker has
  /// been told to shut down or has left.
  CoordinatorSummary run();

 private:
  /// Assigns the next trial, or tells the worker to shut down; true when it assigned.
  bool on_ready(int worker);
  void on_result(io::TrialResult result);
  void on_epoch(int worker, const EpochReport& report);

  Transport& transport_;
  search::Sampler& sampler_;
  io::ResultsStore& store_;
  Progress& progress_;
  std::int64_t budget_;
  std::vector<int> workers_;
  search::Pruner* pruner_;
  int epochs_per_trial_;
  double completed_epoch_energy_j_ = 0.0;  ///< over completed trials, for the pruning estimate
  std::int64_t completed_epochs_ = 0;
  std::int64_t next_trial_ = 0;
  bool exhausted_ = false;
  std::vector<search::TrialSpec> pending_;
  CoordinatorSummary summary_;
};

}  // namespace cs::orchestrator
