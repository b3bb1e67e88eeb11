// Rank 0: hands out trials to whichever worker asks, gathers epochs and results, writes them.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "io/results_store.hpp"
#include "orchestrator/progress.hpp"
#include "orchestrator/transport.hpp"
#include "search/sampler.hpp"

namespace cs::orchestrator {

struct CoordinatorSummary {
  std::int64_t trials_done = 0;
  std::int64_t trials_failed = 0;
  std::vector<std::string> notes;  ///< workers that left early, and why
};

class Coordinator {
 public:
  /// `workers` are the ranks that train; the coordinator itself does not.
  Coordinator(Transport& transport, search::Sampler& sampler, io::ResultsStore& store, Progress& progress,
              std::int64_t budget_trials, std::vector<int> workers);

  /// Runs until every trial is done or no worker is left; returns when every worker has
  /// been told to shut down or has left.
  CoordinatorSummary run();

 private:
  /// Assigns the next trial, or tells the worker to shut down; true when it assigned.
  bool on_ready(int worker);
  void on_result(io::TrialResult result);

  Transport& transport_;
  search::Sampler& sampler_;
  io::ResultsStore& store_;
  Progress& progress_;
  std::int64_t budget_;
  std::vector<int> workers_;
  std::int64_t next_trial_ = 0;
  bool exhausted_ = false;
  std::vector<search::TrialSpec> pending_;
  CoordinatorSummary summary_;
};

}  // namespace cs::orchestrator
