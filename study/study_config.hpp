// The study file (TOML): its typed form, and the parser that names file:line:key on every error.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/enum_names.hpp"
#include "carbon/carbon_source.hpp"
#include "carbon/forecast.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "energy/meter_factory.hpp"
#include "search/grid_sampler.hpp"
#include "search/pruner.hpp"
#include "search/sampler.hpp"
#include "search/space.hpp"

namespace cs::study {

enum class ModelFamily { kSimpleCnn, kFunction };
inline constexpr std::array<EnumName<ModelFamily>, 2> kModelFamilyNames{
    {{ModelFamily::kSimpleCnn, "simple_cnn"}, {ModelFamily::kFunction, "function"}}};

/// cuda: the GPU local_rank mod count, as the nvml meter reads.
enum class Device { kCpu, kCuda };
inline constexpr std::array<EnumName<Device>, 2> kDeviceNames{{{Device::kCpu, "cpu"}, {Device::kCuda, "cuda"}}};

enum class PolicyKind { kFifo, kRoundRobin, kGreenest, kDeferral, kCarbonBudget };
inline constexpr std::array<EnumName<PolicyKind>, 5> kPolicyNames{{{PolicyKind::kFifo, "fifo"},
                                                                   {PolicyKind::kRoundRobin, "round_robin"},
                                                                   {PolicyKind::kGreenest, "greenest"},
                                                                   {PolicyKind::kDeferral, "deferral"},
                                                                   {PolicyKind::kCarbonBudget, "carbon_budget"}}};

enum class Launcher { kMpirun, kSrun };
inline constexpr std::array<EnumName<Launcher>, 2> kLauncherNames{
    {{Launcher::kMpirun, "mpirun"}, {Launcher::kSrun, "srun"}}};

inline std::string_view to_string(ModelFamily v) { return enum_name(kModelFamilyNames, v); }
inline std::string_view to_string(Device v) { return enum_name(kDeviceNames, v); }
inline std::string_view to_string(PolicyKind v) { return enum_name(kPolicyNames, v); }
inline std::string_view to_string(Launcher v) { return enum_name(kLauncherNames, v); }

struct SiteConfig {
  std::string name;
  double pue = 1.0;
  double intensity_g_per_kwh = 0.0;  ///< constant carbon intensity (NaN with a trace)
  int ranks = 0;                     ///< how many worker ranks stand here (0 = by hosts)
  std::vector<std::string> hosts;    ///< or: the hosts whose ranks stand here
  std::string trace;                 ///< or: a CSV trace (resolved against the study file's folder)
  carbon::Interpolation interpolation = carbon::Interpolation::kLinear;  ///< of the trace
  carbon::Extrapolation extrapolation = carbon::Extrapolation::kError;   ///< outside the trace's time range
  std::string region;          ///< or: a region of the built-in table (sets the constant)
  std::string marginal_trace;  ///< optional marginal-intensity trace, priced beside the average one
  std::string partition;       ///< `carbonsweep submit`: this site's `ranks` run in this Slurm partition
  /// What the site's trials are priced at, built once by the parser from the fields above (a
  /// trace is read and validated there) and shared by every copy of the site.
  std::shared_ptr<const carbon::CarbonSource> carbon;
  /// The marginal-intensity source, priced beside `carbon`; null without marginal_trace.
  std::shared_ptr<const carbon::CarbonSource> marginal;
};

/// Pricing time: trial times are mapped to start + (wall time since the run began) x scale,
/// so that a short run can replay a trace. No [time] table: wall-clock time, scale 1.
struct TimeConfig {
  std::optional<double> start_unix_s;
  double scale = 1.0;
};

struct DatasetConfig {
  std::string name = "fashion-mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";
  std::int64_t train_subset = 0;  ///< 0 = all images
  std::int64_t test_subset = 0;
};

struct PrunerConfig {
  search::PrunerKind kind = search::PrunerKind::kNone;
  int warmup_epochs = 1;  ///< median: epochs before pruning; asha: the first rung
  int min_trials = 4;     ///< median: reports needed at an epoch before it prunes
  int eta = 3;            ///< asha: reduction factor
};

struct ModelConfig {
  ModelFamily family = ModelFamily::kSimpleCnn;
  std::string function;                     ///< function: branin | hartmann6 | rosenbrock
  double noise_sd = 0.0;                    ///< function: Gaussian noise added to each evaluation
  double energy_per_epoch_j = 100.0;        ///< function: synthetic energy, scaled by 1 + mean unit coordinate
  std::chrono::milliseconds epoch_time{0};  ///< function: wall time each epoch takes
};

struct TrainingConfig {
  int epochs = 1;
  double lr = 0.01;  ///< defaults for parameters the search space does not set
  double momentum = 0.9;
  std::int64_t batch_size = 64;
  std::int64_t conv_blocks = 2;
  std::int64_t channels = 16;
  int threads = 0;  ///< LibTorch intra-op threads per worker; 0 = the node's cores / workers on it
  Device device = Device::kCpu;
};

struct EnergyConfig {
  std::vector<std::string> meters{"estimate"};
  std::chrono::milliseconds interval{100};
  std::optional<double> cpu_tdp_w;  ///< override of the built-in TDP table
  std::optional<int> cpu_cores;
  std::string external_log;                    ///< the external meter's power log (resolved against the study's folder)
  std::string external_host;                   ///< its rows for this host; default: each rank's host name
  std::chrono::milliseconds idle_baseline{0};  ///< measured before the first trial; 0 = none
};

/// [profiling]: per-layer-type time and energy on every Nth training step.
struct ProfilingConfig {
  bool layers = false;
  int every = 50;
};

/// [scheduling]: the placement policy and what it needs.
struct SchedulingConfig {
  PolicyKind policy = PolicyKind::kFifo;
  carbon::ForecastKind forecast = carbon::ForecastKind::kDayAhead;  ///< deferral
  double max_delay_s = 0.0;                                         ///< deferral (pricing-time seconds)
  double min_saving = 0.1;           ///< deferral: wait only for a window this much greener
  std::optional<double> deadline_s;  ///< no trial starts too late to end by start + deadline
  double budget_g_co2 = 0.0;         ///< carbon_budget
  double idle_power_w = 30.0;        ///< counted while a worker has no trial
};

/// [simulate]: the analytic cost model of `carbonsweep simulate`.
struct SimulateConfig {
  double trial_duration_s = 600.0;
  double trial_power_w = 150.0;
  double duration_per_unit = 1.0;  ///< duration grows by this fraction across the unit cube
};

/// [slurm]: how `carbonsweep submit` sizes and launches the job.
struct SlurmConfig {
  std::string partition;  ///< empty: the cluster's default
  double time_limit_s = 3600.0;
  std::string account;
  int cpus_per_task = 1;
  std::string mem_per_cpu;  ///< e.g. "2G"; empty: the cluster's default
  Launcher launcher = Launcher::kMpirun;
  std::vector<std::string> launcher_args;  ///< e.g. ["--oversubscribe"], ["--mpi=pmix"]
  std::vector<std::string> environment;    ///< NAME=value pairs exported before the launch
  double signal_before_s = 120.0;          ///< SIGUSR1 this long before the time limit
  bool requeue = false;
  std::vector<std::string> sbatch_options;  ///< further `#SBATCH` options, verbatim
};

/// [faults]: workers that stop answering, trials that run too long, and retries.
struct FaultsConfig {
  std::chrono::milliseconds heartbeat_timeout{60'000};     ///< a worker silent this long is lost
  std::optional<std::chrono::milliseconds> trial_timeout;  ///< none: trials have no time limit
  int retries = 0;                                         ///< re-runs of a failed or timed-out trial
};

/// A worker sends a heartbeat this often: a sixth of the timeout, between 50 ms and 10 s.
std::chrono::milliseconds heartbeat_interval(const FaultsConfig& faults);

struct StudyConfig {
  std::string path;       ///< the study file, as given
  std::string toml_text;  ///< verbatim, for the results file
  std::string name;
  std::uint64_t seed = 0;
  std::string output;
  std::int64_t budget_trials = 0;                ///< in total, split equally over the arms
  std::chrono::milliseconds checkpoint{10'000};  ///< how often the results file is rewritten
  std::vector<search::SamplerOptions> arms;      ///< one per strategy compared
  std::string objective = "val_accuracy";
  PrunerConfig pruner;
  search::SearchSpace space;
  DatasetConfig dataset;
  ModelConfig model;
  TrainingConfig training;
  std::vector<SiteConfig> sites;
  EnergyConfig energy;
  ProfilingConfig profiling;
  TimeConfig time;
  SchedulingConfig scheduling;
  SimulateConfig simulate;
  SlurmConfig slurm;
  FaultsConfig faults;
  /// Where keys checked later, on the node that runs the study, stand in the file
  /// ("training.device", "energy.meters" -> line), so those errors name FILE:LINE too.
  std::map<std::string, std::int64_t> key_lines;
};

/// "FILE:LINE: key 'KEY' in [TABLE]: what" for `dotted` = "TABLE.KEY" (line omitted when unknown).
std::string key_error(const StudyConfig& config, const std::string& dotted, const std::string& what);

/// The most trials a study may ask for (simulate's largest benchmark is 1,000,000).
inline constexpr std::int64_t kMaxTrials = 10'000'000;

/// The most LibTorch threads a worker may ask for: four times this node's cores.
int max_threads();

/// The name of a site's dataset in the results file (/carbon/NAME): '/' becomes '_', and a
/// leading '.' or an empty name gets a '_' in front. Two sites may not map to the same name.
std::string carbon_dataset_name(const std::string& site);

/// Reads and validates a study file. Throws ConfigError("FILE:LINE: key 'K': ...") on bad input.
StudyConfig load_study(const std::string& path);
/// What parse_study builds beside the typed configuration.
enum class Sources {
  kLoad,  ///< read each site's trace and build its carbon sources (a study about to run)
  kSkip,  ///< leave `carbon` and `marginal` null (the study text of a results file, whose traces
          ///< may be elsewhere now; the file holds the series it was priced with)
};
/// The same for TOML text already in memory; `path` only names it in messages.
StudyConfig parse_study(const std::string& toml_text, const std::string& path, Sources sources = Sources::kLoad);

/// The study's [energy] settings as the meters take them.
energy::MeterOptions meter_options(const StudyConfig& config);

/// The meters whose energy each trial records: the configured ones, or "synthetic" for the
/// function family.
std::vector<std::string> recorded_meters(const StudyConfig& config);

/// The names the simple_cnn trainer understands as search parameters.
const std::vector<std::string>& trainable_parameter_names();

}  // namespace cs::study
