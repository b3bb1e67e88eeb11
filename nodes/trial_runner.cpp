// Trial execution: the meter session around training, and the carbon price of its energy.
#include "nodes/trial_runner.hpp"

#include <chrono>

#include <fmt/format.h>

#include "energy/carbon.hpp"
#include "energy/meter_factory.hpp"
#include "energy/meter_session.hpp"
#include "errors/error.hpp"

namespace cs::nodes {

namespace {

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Trainer load_trainer(const io::StudyConfig& config) {
  const auto train = load_fashion_mnist(config.dataset.path, Split::kTrain, config.dataset.train_subset);
  const auto test = load_fashion_mnist(config.dataset.path, Split::kTest, config.dataset.test_subset);
  return Trainer(train, test);
}

}  // namespace

TrainSettings settings_for(const io::StudyConfig& config, const search::TrialSpec& spec) {
  const auto& d = config.training;
  TrainSettings s{d.epochs,
                  d.lr,
                  d.momentum,
                  d.batch_size,
                  d.conv_blocks,
                  d.channels,
                  config.seed * 1000003ULL + static_cast<std::uint64_t>(spec.id)};
  for (const auto& p : spec.params) {
    if (p.name == "lr") s.lr = search::param_as_double(spec.params, p.name);
    if (p.name == "momentum") s.momentum = search::param_as_double(spec.params, p.name);
    if (p.name == "batch_size") s.batch_size = search::param_as_int(spec.params, p.name);
    if (p.name == "conv_blocks") s.conv_blocks = search::param_as_int(spec.params, p.name);
    if (p.name == "channels") s.channels = search::param_as_int(spec.params, p.name);
  }
  if (s.batch_size < 1 || s.conv_blocks < 1 || s.channels < 1 || !(s.lr > 0.0)) {
    throw ConfigError(fmt::format("trial {}: batch_size, conv_blocks, channels and lr must be positive", spec.id));
  }
  return s;
}

TrialRunner::TrialRunner(const io::StudyConfig& config, WorkerIdentity identity)
    : config_(config),
      identity_(std::move(identity)),
      trainer_(load_trainer(config)),
      meters_(energy::make_meters(config.energy.meters, {config.energy.cpu_tdp_w, config.energy.cpu_cores})) {}

TrialRunner::~TrialRunner() = default;

io::TrialResult TrialRunner::run(const search::TrialSpec& spec, const EpochReporter& report) {
  io::TrialResult r;
  r.spec = spec;
  r.site = identity_.site.name;
  r.rank = identity_.rank;
  r.host = identity_.host;
  r.threads = identity_.threads;
  r.pue = identity_.site.pue;

  std::vector<energy::EnergyMeter*> meters;
  for (auto& m : meters_) meters.push_back(m.get());
  energy::MeterSession session(meters, config_.energy.interval);
  r.start_unix_s = unix_now_s();
  session.start();
  double energy_before_epoch_j = 0.0;
  try {
    const auto outcome = trainer_.train(settings_for(config_, spec), [&](const EpochOutcome& e) {
      const double energy_j = session.energy_so_far().front().value;
      io::EpochRecord record{e.epoch, e.train_loss, e.val_accuracy, energy_j - energy_before_epoch_j, e.duration_s};
      energy_before_epoch_j = energy_j;
      r.epochs.push_back(record);
      return report ? report(record) : EpochDecision::kContinue;
    });
    if (outcome.diverged) {
      r.status = search::TrialStatus::kDiverged;
      r.error = "the training loss became NaN or infinite";
    } else if (outcome.stopped) {
      r.status = search::TrialStatus::kPruned;
    }
  } catch (const std::exception& e) {
    r.status = search::TrialStatus::kFailed;
    r.error = e.what();
  }
  const auto measured = session.stop();
  r.end_unix_s = unix_now_s();
  r.epochs_done = static_cast<std::int32_t>(r.epochs.size());
  if (!r.epochs.empty()) {
    r.train_loss = r.epochs.back().train_loss;
    r.val_accuracy = r.epochs.back().val_accuracy;
  }
  for (const auto& m : measured.energy) r.meters.push_back({m.name, energy::to_string(m.kind), m.energy.value});
  r.samples = measured.samples;
  r.sampler_cpu_s = measured.sampler_cpu_s;
  r.primary_meter = measured.energy.front().name;
  r.energy_j = measured.energy.front().energy.value;
  const auto e = energy::emissions_at_constant_intensity(measured.energy.front().energy, identity_.site.pue,
                                                         identity_.site.intensity_g_per_kwh);
  r.facility_energy_j = e.facility_energy.value;
  r.intensity_g_per_kwh = e.intensity_g_per_kwh;
  r.co2_g = e.co2_g;
  return r;
}

}  // namespace cs::nodes
