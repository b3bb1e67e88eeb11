// Ranks 1..N: ask for a trial, run it, report its epochs and result, until told to stop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "nodes/trial_executor.hpp"
#include "orchestrator/transport.hpp"

namespace cs::orchestrator {

struct WorkerOptions {
  int coordinator = 0;
  /// The study has a pruner, so each EpochReport waits for its Decision.
  bool epochs_answered = false;
  /// How often the worker's heartbeat thread says it is alive, also mid-trial.
  std::chrono::milliseconds heartbeat_interval{10'000};
  /// A trial running longer is stopped at its next step (status timeout); none: no limit.
  std::optional<std::chrono::milliseconds> trial_timeout;
  /// This process's stop signal (0: none); null: never. One that ends_trials() stops the running
  /// trial at its next step (status interrupted); every signal is passed on to the coordinator.
  std::function<int()> stop_signal;
  /// After a stop signal, the longest wait for the coordinator's Shutdown.
  std::chrono::milliseconds shutdown_wait{10'000};
};

struct WorkerEnd {
  int trials = 0;            ///< trials run
  bool interrupted = false;  ///< a stop signal ended it
};

/// Builds the trial executor (loading the dataset); if that throws, the worker says Goodbye with the
/// reason instead of leaving the coordinator waiting.
WorkerEnd run_worker(Transport& transport, const WorkerOptions& options,
                     const std::function<std::unique_ptr<nodes::TrialExecutor>()>& make_executor);

}  // namespace cs::orchestrator
