// Runs one trial on this rank: trains, meters, and prices the energy at the rank's site.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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
};

/// Called after every epoch; kStop asks the trial to end early (pruning).
using EpochReporter = std::function<EpochDecision(const io::EpochRecord&)>;

class TrialRunner {
 public:
  /// Loads the dataset subsets, builds the meters and, when configured, measures their idle
  /// baseline (the worker sits still for [energy] idle_baseline). Throws ConfigError or MeterError.
  TrialRunner(const study::StudyConfig& config, WorkerIdentity identity);
  ~TrialRunner();

  /// Never throws for a failure inside the trial: that becomes a result with a status.
  io::TrialResult run(const search::TrialSpec& spec, const EpochReporter& report);

 private:
  void train(const search::TrialSpec& spec, const EpochReporter& report, io::TrialResult& r);
  void evaluate_function(const search::TrialSpec& spec, const EpochReporter& report, io::TrialResult& r) const;

  const study::StudyConfig& config_;
  WorkerIdentity identity_;
  std::unique_ptr<Trainer> trainer_;  ///< absent for the function family
  std::vector<std::unique_ptr<energy::EnergyMeter>> meters_;
  std::vector<double> idle_power_w_;  ///< per meter; empty without [energy] idle_baseline
};

/// The LibTorch device of a worker: "cpu", or for [training] device = "cuda" the GPU
/// local_rank mod the GPUs here (the binding the nvml meter assumes without CUDA_VISIBLE_DEVICES).
std::string torch_device(study::Device device, int local_rank);

/// Training settings: the study's defaults, overridden by the trial's parameters.
TrainSettings settings_for(const study::StudyConfig& config, const search::TrialSpec& spec);

}  // namespace cs::nodes
