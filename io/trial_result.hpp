// Everything a worker measured for one trial: the unit the results store writes.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "carbon/emissions.hpp"
#include "energy/meter_session.hpp"
#include "search/trial_spec.hpp"

namespace cs::io {

struct EpochRecord {
  std::int32_t epoch = 0;  ///< from 1
  double train_loss = 0.0;
  double objective = 0.0;  ///< maximised: test accuracy (fraction) for CNNs, -f(x) for functions
  double energy_j = 0.0;   ///< primary meter, this epoch only
  double duration_s = 0.0;
  double train_energy_j = 0.0;  ///< the training phase of the epoch
  double eval_energy_j = 0.0;   ///< its evaluation on the test subset
};

/// One layer type's part of the profiled training steps.
struct LayerEnergy {
  std::string type;  ///< conv, linear, activation, pool, norm, other
  double time_s = 0.0;
  double energy_j = 0.0;  ///< the profiled steps' measured energy x this type's time share
};

struct MeterReading {
  std::string meter;  ///< "estimate", ...
  std::string kind;   ///< "hardware" | "software"
  double energy_j = 0.0;
};

/// Where a trial ran under Slurm, to join the results with `sacct`; empty outside Slurm.
struct SlurmIds {
  std::string job_id;         ///< SLURM_JOB_ID
  std::string step_id;        ///< SLURM_STEP_ID
  std::string array_task;     ///< "SLURM_ARRAY_JOB_ID_SLURM_ARRAY_TASK_ID", as sacct writes it
  std::string het_component;  ///< SLURM_HET_JOB_OFFSET, the component of a heterogeneous job
  std::string node;           ///< SLURMD_NODENAME
};

struct TrialResult {
  search::TrialSpec spec;
  std::int32_t attempt = 1;  ///< 1, or more when [faults] retries re-ran it
  search::TrialStatus status = search::TrialStatus::kCompleted;
  std::string error;  ///< why it failed, empty otherwise
  std::string site;
  std::int32_t rank = 0;
  std::string host;
  std::int32_t threads = 0;  ///< LibTorch intra-op threads
  double start_unix_s = 0.0;
  double end_unix_s = 0.0;
  std::int32_t epochs_done = 0;
  double train_loss = 0.0;
  double val_accuracy = 0.0;            ///< on the validation split; NaN for the function family
  double test_accuracy = std::nan("");  ///< on the test set after the last epoch; NaN when not measured
  double objective = 0.0;               ///< the value the search maximises
  double pruning_saved_energy_j = 0.0;  ///< pruned trials: estimated energy of the epochs not run
  std::vector<EpochRecord> epochs;
  std::vector<MeterReading> meters;
  std::vector<PowerSample> samples;  ///< PowerSample::meter indexes `meters`
  std::string primary_meter;
  double energy_j = 0.0;  ///< device energy from the primary meter
  double pue = 1.0;
  double facility_energy_j = 0.0;  ///< energy_j x pue
  double intensity_g_per_kwh = 0.0;
  double co2_g = 0.0;
  double co2_marginal_g = std::nan("");  ///< priced at the site's marginal trace; NaN without one
  double priced_from_unix_s = 0.0;       ///< the trace time the trial's start was priced at ([time])
  double sampler_cpu_s = 0.0;            ///< CPU time of the sampling thread during the trial
  double train_energy_j = 0.0;           ///< primary meter, training phases of all epochs
  double eval_energy_j = 0.0;            ///< primary meter, evaluation phases
  double idle_power_w = std::nan("");    ///< primary meter's idle baseline; NaN when not measured
  double net_energy_j = std::nan("");    ///< energy_j - idle_power_w x duration; NaN without a baseline
  std::int32_t workers_on_node = 1;      ///< workers sharing the node (node meters are apportioned)
  std::int32_t profiled_steps = 0;       ///< training steps the layer profiler timed
  std::vector<LayerEnergy> layers;       ///< empty unless [profiling] layers = true
  double stall_s = 0.0;                  ///< time its worker was silent beyond the heartbeat interval
  std::string model;                     ///< the network trained: "simple_cnn", "vgg16", ...; empty for functions
  std::int64_t parameters = 0;           ///< its trainable values
  double macs = std::nan("");            ///< its forward multiply-accumulates per sample; NaN when unknown
  std::string inactive_params;           ///< search parameters that did not apply to this trial, comma-separated
  std::string precision;                 ///< "fp32" or "bf16"; empty for the function family
  std::int32_t channels_last = 0;        ///< 1 when images and weights were channels-last
  std::string cuda_graph;                ///< CUDA: "captured" or "eager: <why>"; empty on the CPU
  std::string gpu;         ///< the GPUs its nvml meter read: "<index> <UUID> <name>", "; "-separated; else empty
  std::string gpu_driver;  ///< "driver <version>, CUDA <version>" from NVML; empty without nvml
  /// nvml: the GPU energy counter's change over the trial / the polled power's integral; NaN when
  /// the GPU has no counter or no nvml meter read
  double gpu_counter_over_polled = std::nan("");
  /// nvml: the fraction of the trial's GPU energy taken from polled power because the counter
  /// had not moved (1 for a trial shorter than its refresh, or a GPU without a counter)
  double gpu_interpolated = std::nan("");
  SlurmIds slurm{};
};

}  // namespace cs::io

namespace cs::io {

/// "<index> <UUID> <name> (driver <version>, CUDA <version>)" of the GPUs a trial's nvml meter
/// read; empty without one.
inline std::string describe_gpu(const TrialResult& r) {
  if (r.gpu.empty() || r.gpu_driver.empty()) return r.gpu;
  return r.gpu + " (" + r.gpu_driver + ")";
}

/// A worker's time without a trial while the study ran (waiting for work, or held back by a
/// placement policy), and what that idle power cost.
struct IdleRecord {
  std::int32_t rank = 0;
  std::string site;
  double idle_s = 0.0;    ///< real seconds
  double energy_j = 0.0;  ///< idle_s x the configured idle power (device)
  double co2_g = 0.0;     ///< x PUE x the site's intensity over the idle time
};

/// Records a trial's pricing: facility energy, intensity and CO2 (average and marginal). A trial
/// that could not be priced (its site's trace does not cover it) becomes a failed trial with the
/// reason, unless it had already failed for another.
inline void apply_pricing(const carbon::TrialPricing& priced, TrialResult& r) {
  r.facility_energy_j = priced.average.facility_energy.value;
  r.intensity_g_per_kwh = priced.average.intensity_g_per_kwh;
  r.co2_g = priced.average.co2_g;
  r.co2_marginal_g = priced.co2_marginal_g;
  if (priced.error.empty()) return;
  if (r.status != search::TrialStatus::kFailed || r.error.empty()) r.error = priced.error;
  r.status = search::TrialStatus::kFailed;
}

}  // namespace cs::io
