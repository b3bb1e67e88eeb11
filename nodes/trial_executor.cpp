// Trial execution: the meter session around training, and the carbon price of its energy.
#include "nodes/trial_executor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "carbon/carbon_source.hpp"
#include "carbon/emissions.hpp"
#include "energy/meter_factory.hpp"
#include "energy/meter_session.hpp"
#include "energy/nvml_meter.hpp"
#include "search/sampler.hpp"
#include "search/test_functions.hpp"

namespace cs::nodes {

namespace {

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The rank's images, read and preprocessed once for all its trials; the validation split is the
/// same on every rank (seeded by the study's seed).
std::unique_ptr<Trainer> load_trainer(const study::StudyConfig& config, int local_rank) {
  auto train = load_images(config.dataset, Split::kTrain, config.dataset.train_subset);
  const auto validation = split_validation(train, config.dataset.validation_fraction, config.seed);
  const auto test = load_images(config.dataset, Split::kTest, config.dataset.test_subset);
  return std::make_unique<Trainer>(train, validation, test, config.dataset,
                                   torch_device(config.training.device, local_rank));
}

energy::MeterOptions meter_options_for(const study::StudyConfig& config, const WorkerIdentity& identity) {
  auto options = study::meter_options(config);
  options.local_rank = identity.local_rank;
  return options;
}

std::vector<energy::EnergyMeter*> borrow(const std::vector<std::unique_ptr<energy::EnergyMeter>>& meters) {
  std::vector<energy::EnergyMeter*> out;
  for (const auto& m : meters) out.push_back(m.get());
  return out;
}

}  // namespace

std::string torch_device(study::Device device, int local_rank) {
  if (device != study::Device::kCuda) return "cpu";
  const int count = cuda_device_count();
  return fmt::format("cuda:{}", count > 0 ? local_rank % count : 0);
}

study::TrainSettings settings_for(const study::StudyConfig& config, const search::TrialSpec& spec,
                                  std::vector<std::string>* inactive) {
  auto defaults = study::train_settings(config);
  defaults.seed = config.seed * 1000003ULL + static_cast<std::uint64_t>(spec.id);
  return study::apply_params(std::move(defaults), spec.params, spec.id, inactive);
}

namespace {

/// A record with who ran the trial, where, and when it started.
io::TrialResult start_record(const search::TrialSpec& spec, const WorkerIdentity& identity) {
  io::TrialResult r;
  r.spec = spec;
  r.site = identity.site.name;
  r.rank = identity.rank;
  r.host = identity.host;
  r.threads = identity.threads;
  r.workers_on_node = identity.workers_on_node;
  r.pue = identity.site.pue;
  r.slurm = identity.slurm;
  r.start_unix_s = unix_now_s();
  return r;
}

/// The words a trial that `stop` ended records as its error.
std::string stop_reason(search::TrialStatus status) {
  return status == search::TrialStatus::kTimeout ? "stopped at [faults] trial_timeout"
                                                 : "interrupted by a signal; --resume runs it again";
}

/// Ends the record: times, the last epoch's metrics, and the price of its energy at the site
/// (primary meter's power series, in the study's pricing time).
void finish_record(const study::StudyConfig& config, const WorkerIdentity& identity, io::TrialResult& r) {
  r.end_unix_s = unix_now_s();
  r.epochs_done = static_cast<std::int32_t>(r.epochs.size());
  if (!r.epochs.empty()) {
    r.train_loss = r.epochs.back().train_loss;
    r.objective = r.epochs.back().objective;
  }
  const auto& time = config.time;
  const double price_start = time.start_unix_s
                                 ? *time.start_unix_s + (r.start_unix_s - identity.run_start_unix_s) * time.scale
                                 : r.start_unix_s;
  r.priced_from_unix_s = price_start;
  std::vector<PowerSample> primary;
  for (const auto& s : r.samples) {
    if (s.meter == 0) primary.push_back(s);
  }
  io::apply_pricing(carbon::price_trial(primary, Joules{r.energy_j}, r.end_unix_s - r.start_unix_s, identity.site.pue,
                                        *identity.site.carbon, identity.site.marginal.get(), price_start, time.scale),
                    r);
}

/// The GPUs the nvml meter read, and how far its counter agreed with its polled power.
void record_gpu(const std::vector<std::unique_ptr<energy::EnergyMeter>>& meters, const energy::SessionReport& measured,
                io::TrialResult& r) {
  for (std::size_t i = 0; i < meters.size(); ++i) {
    const auto* nvml = dynamic_cast<const energy::NvmlMeter*>(meters[i].get());
    if (!nvml) continue;
    r.gpu = nvml->describe_gpus();
    r.gpu_driver = nvml->driver();
    if (const auto& check = measured.counter_checks[i]) {
      if (check->has_counter && check->polled_j > 0.0) r.gpu_counter_over_polled = check->counter_j / check->polled_j;
      if (check->energy_j > 0.0) {
        r.gpu_interpolated =
            check->has_counter ? std::clamp((check->energy_j - check->counter_j) / check->energy_j, 0.0, 1.0) : 1.0;
      }
    }
    return;
  }
}

/// A CNN trained with LibTorch inside a meter session.
class TrainingExecutor final : public TrialExecutor {
 public:
  TrainingExecutor(const study::StudyConfig& config, WorkerIdentity identity);
  io::TrialResult run(const search::TrialSpec& spec, const EpochReporter& report, const StopCheck& stop) override {
    auto r = start_record(spec, identity_);
    train(spec, report, stop, r);
    finish_record(config_, identity_, r);
    if (!r.epochs.empty()) r.val_accuracy = r.objective;
    return r;
  }

 private:
  void train(const search::TrialSpec& spec, const EpochReporter& report, const StopCheck& stop, io::TrialResult& r);

  const study::StudyConfig& config_;
  WorkerIdentity identity_;
  std::unique_ptr<Trainer> trainer_;
  std::vector<std::unique_ptr<energy::EnergyMeter>> meters_;
  std::vector<double> idle_power_w_;  ///< per meter; empty without [energy] idle_baseline
};

/// A synthetic test function (no training): the orchestration's own costs, and benchmarks.
class FunctionExecutor final : public TrialExecutor {
 public:
  FunctionExecutor(const study::StudyConfig& config, WorkerIdentity identity)
      : config_(config), identity_(std::move(identity)) {}
  io::TrialResult run(const search::TrialSpec& spec, const EpochReporter& report, const StopCheck& stop) override {
    auto r = start_record(spec, identity_);
    try {
      evaluate(spec, report, stop, r);
    } catch (const std::exception& e) {
      r.status = search::TrialStatus::kFailed;
      r.error = e.what();
    }
    finish_record(config_, identity_, r);
    if (!r.epochs.empty()) r.val_accuracy = std::nan("");  // a function has no accuracy
    return r;
  }

 private:
  void evaluate(const search::TrialSpec& spec, const EpochReporter& report, const StopCheck& stop,
                io::TrialResult& r) const;

  const study::StudyConfig& config_;
  WorkerIdentity identity_;
};

TrainingExecutor::TrainingExecutor(const study::StudyConfig& config, WorkerIdentity identity)
    : config_(config),
      identity_(std::move(identity)),
      trainer_(load_trainer(config, identity_.local_rank)),
      meters_(energy::make_meters(config.energy.meters, meter_options_for(config, identity_))) {
  if (meters_.empty() || config.energy.idle_baseline.count() == 0) return;
  energy::MeterSession session(borrow(meters_), config.energy.interval);
  session.start();
  std::this_thread::sleep_for(config.energy.idle_baseline);
  const auto idle = session.stop();
  for (const auto& m : idle.energy) idle_power_w_.push_back(m.energy.value / idle.duration_s);
}

void TrainingExecutor::train(const search::TrialSpec& spec, const EpochReporter& report, const StopCheck& stop,
                             io::TrialResult& r) {
  energy::MeterSession session(borrow(meters_), config_.energy.interval);
  session.start();
  const auto primary_now_j = [&] { return session.energy_so_far().front().value; };
  double epoch_start_j = 0.0, eval_start_j = 0.0;
  nodes::TrainCallbacks callbacks;
  callbacks.on_eval_start = [&] { eval_start_j = primary_now_j(); };
  callbacks.on_epoch = [&](const EpochOutcome& e) {
    const double now_j = primary_now_j();
    io::EpochRecord record{e.epoch,
                           e.train_loss,
                           e.val_accuracy,
                           now_j - epoch_start_j,
                           e.duration_s,
                           eval_start_j - epoch_start_j,
                           now_j - eval_start_j};
    epoch_start_j = now_j;
    r.train_energy_j += record.train_energy_j;
    r.eval_energy_j += record.eval_energy_j;
    r.epochs.push_back(record);
    return report ? report(record) : EpochDecision::kContinue;
  };
  std::optional<search::TrialStatus> stopped_as;
  if (stop) {
    callbacks.should_stop = [&] {
      stopped_as = stop();
      return stopped_as.has_value();
    };
  }
  if (config_.profiling.layers) {
    callbacks.profile_every = config_.profiling.every;
    callbacks.energy_now_j = primary_now_j;
  }
  try {
    std::vector<std::string> inactive;
    const auto settings = settings_for(config_, spec, &inactive);
    r.inactive_params = fmt::format("{}", fmt::join(inactive, ","));
    const auto outcome = trainer_->train(settings, callbacks);
    if (std::isfinite(outcome.test_accuracy)) {
      r.eval_energy_j += primary_now_j() - epoch_start_j;  // the test set's evaluation after the last epoch
    }
    r.test_accuracy = outcome.test_accuracy;
    r.model = outcome.model;
    r.precision = std::string(study::to_string(settings.training.precision));
    r.channels_last = settings.training.channels_last;
    r.cuda_graph = outcome.cuda_graph;
    r.parameters = outcome.parameters;
    r.macs = outcome.macs;
    if (outcome.diverged) {
      r.status = search::TrialStatus::kDiverged;
      r.error = "the training loss became NaN or infinite";
    } else if (outcome.halted && stopped_as) {
      r.status = *stopped_as;
      r.error = stop_reason(*stopped_as);
    } else if (outcome.stopped) {
      r.status = search::TrialStatus::kPruned;
    }
    for (const auto& l : outcome.layers) r.layers.push_back({l.type, l.time_s, l.energy_j});
    r.profiled_steps = outcome.profiled_steps;
  } catch (const std::exception& e) {
    r.status = search::TrialStatus::kFailed;
    r.error = e.what();
  }
  const auto measured = session.stop();
  for (const auto& m : measured.energy) r.meters.push_back({m.name, energy::to_string(m.kind), m.energy.value});
  r.samples = measured.samples;
  r.sampler_cpu_s = measured.sampler_cpu_s;
  r.primary_meter = measured.energy.front().name;
  r.energy_j = measured.energy.front().energy.value;
  record_gpu(meters_, measured, r);
  if (!idle_power_w_.empty()) {
    r.idle_power_w = idle_power_w_.front();
    r.net_energy_j = std::max(0.0, r.energy_j - r.idle_power_w * measured.duration_s);
  }
}

/// A synthetic epoch's time, passed in slices of at most 20 ms so that a time limit or a signal
/// ends it promptly: the fraction of it that ran, and why it ended early (if it did).
std::pair<double, std::optional<search::TrialStatus>> pass_epoch(std::chrono::milliseconds epoch_time,
                                                                 const StopCheck& stop) {
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    const auto ran = std::chrono::steady_clock::now() - start;
    if (auto why = stop ? stop() : std::nullopt) {
      const double fraction = epoch_time.count() > 0 ? std::chrono::duration<double>(ran) / epoch_time : 0.0;
      return {std::min(fraction, 1.0), why};
    }
    if (ran >= epoch_time) return {1.0, std::nullopt};
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(epoch_time - ran, std::chrono::milliseconds(20)));
  }
}

void FunctionExecutor::evaluate(const search::TrialSpec& spec, const EpochReporter& report, const StopCheck& stop,
                                io::TrialResult& r) const {
  // The objective is -f(x) (maximised), approached over the epochs as -f(x) - (1/e - 1/E), so
  // that pruning has curves to act on. Energy per epoch grows with the unit coordinates.
  const auto& m = config_.model;
  std::vector<double> x;
  double mean_unit = 0.0;
  for (std::size_t k = 0; k < config_.space.size(); ++k) {
    const double v = search::param_as_double(spec.params, config_.space.params()[k].name);
    x.push_back(v);
    mean_unit += config_.space.to_unit(k, config_.space.params()[k].kind == search::ParamKind::kInt
                                              ? search::ParamValue{static_cast<std::int64_t>(v)}
                                              : search::ParamValue{v});
  }
  mean_unit /= static_cast<double>(std::max<std::size_t>(x.size(), 1));
  const double f = search::evaluate_test_function(m.function, x) +
                   m.noise_sd * search::counter_normal(config_.seed, static_cast<std::uint64_t>(spec.id));
  const double epoch_energy_j = m.energy_per_epoch_j * (1.0 + mean_unit);
  const int epochs = config_.training.epochs;
  for (int e = 1; e <= epochs; ++e) {
    const auto [ran, why] = pass_epoch(m.epoch_time, stop);
    if (why) {  // the part of the epoch it ran is charged
      r.energy_j += epoch_energy_j * ran;
      r.train_energy_j += epoch_energy_j * ran;
      r.status = *why;
      r.error = stop_reason(*why);
      break;
    }
    const double objective = -f - (1.0 / e - 1.0 / epochs);
    r.epochs.push_back(
        {e, f, objective, epoch_energy_j, std::chrono::duration<double>(m.epoch_time).count(), epoch_energy_j, 0.0});
    r.energy_j += epoch_energy_j;
    r.train_energy_j += epoch_energy_j;
    if (report && report(r.epochs.back()) == EpochDecision::kStop) {
      if (e < epochs) r.status = search::TrialStatus::kPruned;
      break;
    }
  }
  r.meters.push_back({"synthetic", "software", r.energy_j});
  r.primary_meter = "synthetic";
}

}  // namespace

io::SlurmIds slurm_ids_from_environment() {
  const auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  io::SlurmIds ids{env("SLURM_JOB_ID"), env("SLURM_STEP_ID"), "", env("SLURM_HET_JOB_OFFSET"), env("SLURMD_NODENAME")};
  if (!env("SLURM_ARRAY_JOB_ID").empty()) ids.array_task = env("SLURM_ARRAY_JOB_ID") + "_" + env("SLURM_ARRAY_TASK_ID");
  return ids;
}

std::unique_ptr<TrialExecutor> make_trial_executor(const study::StudyConfig& config, WorkerIdentity identity) {
  if (config.model.family == study::ModelFamily::kFunction) {
    return std::make_unique<FunctionExecutor>(config, std::move(identity));
  }
  return std::make_unique<TrainingExecutor>(config, std::move(identity));
}

}  // namespace cs::nodes
