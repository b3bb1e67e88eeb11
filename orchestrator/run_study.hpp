// `carbonsweep run`: the study under MPI (or alone in one process).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "study/study_config.hpp"

namespace cs::orchestrator {

struct RunOptions {
  std::string study_path;
  std::vector<std::string> overrides;   ///< --set TABLE.KEY=VALUE
  std::optional<std::string> output;    ///< overrides [study] output
  std::optional<int> threads;           ///< overrides [training] threads
  bool force = false;                   ///< replace an existing results file
  bool resume = false;                  ///< continue an interrupted run from its journal
  std::optional<std::string> progress;  ///< --progress: tty | lines | off | auto (the default)
};

/// Exit codes beyond 0 (done), 1 (an error) and 2 (bad input, nothing written).
inline constexpr int kExitInterrupted = 3;  ///< a signal stopped it; the finished trials are kept, --resume goes on
inline constexpr int kExitWorkersLost = 4;  ///< done and written, but some workers were lost on the way

/// Collective over MPI_COMM_WORLD. Returns the process exit code.
int run_study(int* argc, char*** argv, const RunOptions& options);

/// Throws when the study cannot run on this node: its dataset, its meters, a CUDA device it asks for.
void check_runnable_here(const study::StudyConfig& config);

/// LibTorch threads for a worker: the configured number, else the node's cores shared
/// among the workers on it.
int worker_threads(int configured, int workers_on_node, int node_cores);

}  // namespace cs::orchestrator
