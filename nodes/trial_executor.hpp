// Runs one trial on this rank (trains, or evaluates a synthetic function), meters it, and prices
// its energy at the rank's site.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbon/carbon_source.hpp"
#include "energy/meter.hpp"
#include "io/trial_result.hpp"
#include "nodes/trainer.hpp"
#include "study/study_config.hpp"

namespace cs::nodes {

struct WorkerIdentity {
  int rank = 0;
  std::string host;
  study::SiteConfig site;
  int threads = 1;                ///< LibTorch intra-op threads
  int local_rank = 0;             ///< index among the workers on this node (GPU binding)
  int workers_on_node = 1;        ///< workers sharing this node
  double run_start_unix_s = 0.0;  ///< when the run began (rank 0's clock), for pricing time
  io::SlurmIds slurm{};           ///< this rank's job, step and node under Slurm
};

/// This process's Slurm ids, from the environment Slurm sets for a job's tasks (empty outside Slurm).
io::SlurmIds slurm_ids_from_environment();

/// Called after every epoch; kStop asks the trial to end early (pruning).
using EpochReporter = std::function<EpochDecision(const io::EpochRecord&)>;

/// Asked at every training step: a reason to end the trial now (kTimeout, kInterrupted), or
/// nothing. Null: never.
using StopCheck = std::function<std::optional<search::TrialStatus>()>;

/// What the worker loop runs for each trial it is given.
class TrialExecutor {
 public:
  virtual ~TrialExecutor() = default;
  /// Never throws for a failure inside the trial: that becomes a result with a status. A trial
  /// that `stop` ends keeps the energy it spent and takes the status `stop` gave.
  virtual io::TrialResult run(const search::TrialSpec& spec, const EpochReporter& report, const StopCheck& stop) = 0;
};

/// Training (a CNN family: loads the dataset subsets, builds the meters and, when configured,
/// measures their idle baseline) or the synthetic function family. Throws ConfigError or
/// MeterError. `config` must outlive the executor.
std::unique_ptr<TrialExecutor> make_trial_executor(const study::StudyConfig& config, WorkerIdentity identity);

/// The LibTorch device of a worker: "cpu", or for [training] device = "cuda" the GPU
/// local_rank mod the GPUs here (the binding the nvml meter assumes without CUDA_VISIBLE_DEVICES).
std::string torch_device(study::Device device, int local_rank);

/// Training settings: the study's, overridden by the trial's parameters, seeded per trial. The
/// parameters that do not apply to the resulting model or optimizer go to `inactive`.
study::TrainSettings settings_for(const study::StudyConfig& config, const search::TrialSpec& spec,
                                  std::vector<std::string>* inactive = nullptr);

}  // namespace cs::nodes
