// Ranks 1..N: ask for a trial, run it, report its epochs and result, until told to stop.
#pragma once

#include <functional>
#include <memory>

#include "nodes/trial_executor.hpp"
#include "orchestrator/transport.hpp"

namespace cs::orchestrator {

/// Builds the trial executor (loading the dataset); if that throws, the worker says Goodbye with the
/// reason instead of leaving the coordinator waiting. Returns the number of trials run.
/// `epochs_answered`: the study has a pruner, so each EpochReport waits for its Decision.
int run_worker(Transport& transport, int coordinator, bool epochs_answered,
               const std::function<std::unique_ptr<nodes::TrialExecutor>()>& make_executor);

}  // namespace cs::orchestrator
