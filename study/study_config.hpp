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
#include "study/train_settings.hpp"

namespace cs::study {

enum class PolicyKind { kFifo, kRoundRobin, kGreenest, kDeferral, kCarbonBudget };
inline constexpr std::array<EnumName<PolicyKind>, 5> kPolicyNames{{{PolicyKind::kFifo, "fifo"},
                                                                   {PolicyKind::kRoundRobin, "round_robin"},
                                                                   {PolicyKind::kGreenest, "greenest"},
                                                                   {PolicyKind::kDeferral, "deferral"},
                                                                   {PolicyKind::kCarbonBudget, "carbon_budget"}}};

enum class Launcher { kMpirun, kSrun };
inline constexpr std::array<EnumName<Launcher>, 2> kLauncherNames{
    {{Launcher::kMpirun, "mpirun"}, {Launcher::kSrun, "srun"}}};

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

enum class DatasetKind { kFashionMnist, kMnist, kCifar10, kCifar100, kSynthetic };
inline constexpr std::array<EnumName<DatasetKind>, 5> kDatasetNames{{{DatasetKind::kFashionMnist, "fashion-mnist"},
                                                                     {DatasetKind::kMnist, "mnist"},
                                                                     {DatasetKind::kCifar10, "cifar10"},
                                                                     {DatasetKind::kCifar100, "cifar100"},
                                                                     {DatasetKind::kSynthetic, "synthetic"}}};
inline std::string_view to_string(DatasetKind v) { return enum_name(kDatasetNames, v); }

struct DatasetConfig {
  DatasetKind name = DatasetKind::kFashionMnist;
  std::string path = "/usr/share/datasets/fashion-mnist";  ///< the folder of the files (none for synthetic)
  std::int64_t train_subset = 0;                           ///< 0 = all images (synthetic: 5,000)
  std::int64_t test_subset = 0;                            ///< 0 = all images (synthetic: 1,000)
  double validation_fraction = 0.1;  ///< carved from the training images; the objective is measured on it
  std::int64_t resize = 0;           ///< square side the images are resized to; 0 = as stored
  std::int64_t channels = 0;         ///< 1 or 3 (1 -> 3 copies the grey channel); 0 = as stored
  bool normalize = true;             ///< subtract the dataset's mean and divide by its standard deviation
  bool flip = false;                 ///< augmentation: mirror a random half of each training batch
  std::int64_t shift = 0;            ///< augmentation: translate each training image by up to this many pixels
};

struct PrunerConfig {
  search::PrunerKind kind = search::PrunerKind::kNone;
  int warmup_epochs = 1;  ///< median: epochs before pruning; asha: the first rung
  int min_trials = 4;     ///< median: reports needed at an epoch before it prunes
  int eta = 3;            ///< asha: reduction factor
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
  OptimizerConfig optimizer;
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
/// `overrides` are TABLE.KEY=VALUE settings from the command line (--set), applied before the
/// checks; the results file then records the study as overridden.
StudyConfig load_study(const std::string& path, const std::vector<std::string>& overrides = {});
/// What parse_study builds beside the typed configuration.
enum class Sources {
  kLoad,  ///< read each site's trace and build its carbon sources (a study about to run)
  kSkip,  ///< leave `carbon` and `marginal` null (the study text of a results file, whose traces
          ///< may be elsewhere now; the file holds the series it was priced with)
};
/// The same for TOML text already in memory; `path` only names it in messages.
StudyConfig parse_study(const std::string& toml_text, const std::string& path, Sources sources = Sources::kLoad,
                        const std::vector<std::string>& overrides = {});

/// The study's [energy] settings as the meters take them.
energy::MeterOptions meter_options(const StudyConfig& config);

/// The meters whose energy each trial records: the configured ones, or "synthetic" for the
/// function family.
std::vector<std::string> recorded_meters(const StudyConfig& config);

/// The study's training settings before a trial's parameters apply (`seed` is the study's).
TrainSettings train_settings(const StudyConfig& config);

}  // namespace cs::study
