// The discrete-event simulator: a Transport whose workers are events in a priority queue.
#include "orchestrator/simulate.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <iostream>
#include <queue>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/utc_time.hpp"
#include "carbon/emissions.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "orchestrator/coordinator.hpp"
#include "scheduling/clock.hpp"
#include "scheduling/placement.hpp"
#include "search/arms_sampler.hpp"
#include "search/prepare_ahead.hpp"

namespace cs::orchestrator {

namespace {

/// The virtual workers: an Assign schedules the trial's end on the clock; receive() delivers
/// the earliest end as a ResultReport (which also asks for the next trial), moving the clock to it.
class SimulatedCluster final : public Transport {
 public:
  SimulatedCluster(scheduling::VirtualClock& clock, const study::StudyConfig& config,
                   const scheduling::StudyPlacement& placement, std::vector<std::size_t> worker_site,
                   const scheduling::CostModel& model)
      : clock_(clock),
        config_(config),
        placement_(placement),
        worker_site_(std::move(worker_site)),
        model_(model),
        running_(worker_site_.size() + 1) {
    for (int rank = 1; rank <= static_cast<int>(worker_site_.size()); ++rank) ready_.push_back(rank);
  }

  int rank() const override { return 0; }

  void send(int destination, const Message& message) override {
    const auto* assign = std::get_if<Assign>(&message);
    if (!assign) return;  // Shutdown: the worker is done; no epochs are reported, so no Decision either
    const std::size_t s = worker_site_[static_cast<std::size_t>(destination - 1)];
    const auto& site = placement_.sites[s];
    const auto cost = model_.predict(assign->spec, config_.seed);
    io::TrialResult& r = running_[static_cast<std::size_t>(destination)];
    r = {};
    r.spec = assign->spec;
    r.site = site.name;
    r.rank = destination;
    r.host = fmt::format("sim-{}", destination);
    r.threads = 1;
    r.start_unix_s = clock_.now_unix_s();
    r.end_unix_s = r.start_unix_s + cost.duration_s;
    r.epochs_done = 1;
    r.objective = cost.objective;
    r.val_accuracy = config_.model.family == study::ModelFamily::kFunction ? std::nan("") : cost.objective;
    r.energy_j = cost.power_w * cost.duration_s;
    r.train_energy_j = r.energy_j;
    r.epochs.push_back({1, 0.0, cost.objective, r.energy_j, cost.duration_s, r.energy_j, 0.0});
    r.meters.push_back({"model", "software", r.energy_j});
    r.primary_meter = "model";
    r.pue = site.pue;
    r.priced_from_unix_s = r.start_unix_s;
    // Constant power, priced over 8 sub-intervals of the trial against the site's intensity.
    std::vector<PowerSample> samples;
    for (int i = 1; i <= 8; ++i) samples.push_back({cost.duration_s * i / 8.0, 0, cost.power_w});
    io::apply_pricing(carbon::price_trial(samples, Joules{r.energy_j}, cost.duration_s, site.pue, *site.source,
                                          config_.sites[s].marginal.get(), r.start_unix_s),
                      r);
    events_.push({r.end_unix_s, destination});
  }

  std::optional<Envelope> receive(std::chrono::milliseconds timeout) override {
    if (!ready_.empty()) {
      const int rank = ready_.front();
      ready_.pop_front();
      return std::optional<Envelope>(std::in_place, rank, Ready{rank});
    }
    const double limit = clock_.now_unix_s() + static_cast<double>(timeout.count()) / 1000.0;
    if (!events_.empty() && events_.top().t <= limit) {
      const Event e = events_.top();
      events_.pop();
      clock_.advance_to(e.t);
      return std::optional<Envelope>(std::in_place, e.rank,
                                     ResultReport{std::move(running_[static_cast<std::size_t>(e.rank)])});
    }
    clock_.advance_to(limit);
    return std::nullopt;
  }

  std::optional<Envelope> receive_tagged(int) override { return std::nullopt; }  // nothing is interrupted

 private:
  struct Event {
    double t;
    int rank;
    bool operator>(const Event& o) const { return t > o.t || (t == o.t && rank > o.rank); }
  };
  scheduling::VirtualClock& clock_;
  const study::StudyConfig& config_;
  const scheduling::StudyPlacement& placement_;
  std::vector<std::size_t> worker_site_;  ///< rank - 1 -> site index
  const scheduling::CostModel& model_;
  std::vector<io::TrialResult> running_;  ///< by rank
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::deque<int> ready_;
};

/// Times each suggestion the coordinator asks for, at the virtual time it asked, and each batch
/// that a Bayesian arm prepares ahead. The virtual clock does not move while the sampler works,
/// so the simulated schedule stays deterministic; `wait_fraction` then replays the calls through
/// one coordinator serving them in order, each taking its measured wall time, and the batches
/// through one thread per arm, to say how long workers would have waited for suggestions.
class SuggestionLog {
 public:
  explicit SuggestionLog(const scheduling::VirtualClock& clock) : clock_(clock) {}

  /// Runs each job at once, timed, where a real run has a thread of its own.
  class Ahead final : public search::AheadRunner {
   public:
    Ahead(SuggestionLog& log, std::size_t runner) : log_(log), runner_(runner) {}
    void start(std::function<void()> job) override {
      const auto t0 = std::chrono::steady_clock::now();
      job();
      log_.job_done(runner_, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    void wait() override { log_.job_awaited(runner_); }

   private:
    SuggestionLog& log_;
    std::size_t runner_;
  };
  std::shared_ptr<search::AheadRunner> make_ahead() {
    last_job_.push_back(-1);
    return std::make_shared<Ahead>(*this, last_job_.size() - 1);
  }

  void call_begun() {
    calls_.push_back({clock_.now_unix_s(), 0.0, -1});
    ahead_in_call_s_ = 0.0;
  }
  /// `wall_s`: the whole call, less the jobs it started (they run on the arms' threads).
  void call_done(double wall_s) { calls_.back().wall_s = wall_s - ahead_in_call_s_; }

  std::int64_t calls() const { return static_cast<std::int64_t>(calls_.size()); }
  /// The sampler's work: the coordinator's and the arms' threads'.
  double wall_s() const {
    double sum = 0.0;
    for (const auto& c : calls_) sum += c.wall_s;
    for (const auto& j : jobs_) sum += j.wall_s;
    return sum;
  }
  /// Waiting / (waiting + trial time): each call waits for the calls before it and for the batch
  /// it takes over, then does its own work; a batch starts when the call that began it ends and
  /// its arm's thread is free.
  double wait_fraction(double trial_time_s) const {
    double free_at = -1e300, waited = 0.0;
    std::vector<double> thread_free(last_job_.size(), -1e300), job_end(jobs_.size(), 0.0);
    std::size_t next_job = 0;
    for (std::size_t i = 0; i < calls_.size(); ++i) {
      const auto& c = calls_[i];
      double start = std::max(free_at, c.at_s);
      if (c.awaits >= 0) start = std::max(start, job_end[static_cast<std::size_t>(c.awaits)]);
      free_at = start + c.wall_s;
      waited += free_at - c.at_s;
      for (; next_job < jobs_.size() && jobs_[next_job].call == i; ++next_job) {
        auto& thread = thread_free[jobs_[next_job].runner];
        job_end[next_job] = thread = std::max(thread, free_at) + jobs_[next_job].wall_s;
      }
    }
    return waited + trial_time_s > 0.0 ? waited / (waited + trial_time_s) : 0.0;
  }

 private:
  void job_done(std::size_t runner, double wall_s) {
    last_job_[runner] = static_cast<std::int64_t>(jobs_.size());
    jobs_.push_back({calls_.size() - 1, runner, wall_s});
    ahead_in_call_s_ += wall_s;
  }
  void job_awaited(std::size_t runner) {
    if (!calls_.empty()) calls_.back().awaits = last_job_[runner];
  }

  struct Call {
    double at_s, wall_s;
    std::int64_t awaits;  ///< the index of the job whose batch this call waited for, or -1
  };
  struct Job {
    std::size_t call, runner;  ///< the call that started it, and its arm's runner
    double wall_s;
  };
  const scheduling::VirtualClock& clock_;
  std::vector<Call> calls_;
  std::vector<Job> jobs_;
  std::vector<std::int64_t> last_job_;  ///< by runner
  double ahead_in_call_s_ = 0.0;
};

/// The study's sampler, each suggestion timed into the log.
class SuggestionTimer final : public search::Sampler {
 public:
  SuggestionTimer(search::Sampler& inner, SuggestionLog& log) : inner_(inner), log_(log) {}
  std::string name() const override { return inner_.name(); }
  std::optional<search::TrialSpec> suggest(std::int64_t trial_id, std::span<const search::TrialSpec> pending) override {
    log_.call_begun();
    const auto t0 = std::chrono::steady_clock::now();
    auto spec = inner_.suggest(trial_id, pending);
    log_.call_done(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return spec;
  }
  void observe(const search::Observation& o) override { inner_.observe(o); }

 private:
  search::Sampler& inner_;
  SuggestionLog& log_;
};

double simulation_start(const study::StudyConfig& config) {
  if (config.time.start_unix_s) return *config.time.start_unix_s;
  double start = -1.0;
  for (const auto& site : config.sites) {
    if (const auto points = site.carbon->points(); !points.empty()) start = std::max(start, points.front().unix_s);
  }
  return start >= 0.0 ? start
                      : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

SimulationSummary simulate(const study::StudyConfig& config, int workers_per_site, const scheduling::CostModel& model,
                           io::ResultsStore& store, Progress& progress, bool prepare_ahead) {
  if (workers_per_site < 1) throw ConfigError("simulate: --workers-per-site must be >= 1");
  scheduling::VirtualClock clock(simulation_start(config));
  auto placement = scheduling::make_study_placement(config, clock.now_unix_s());
  // Workers interleave over the sites (rank 1 at site 0, rank 2 at site 1, ...).
  const std::size_t workers = config.sites.size() * static_cast<std::size_t>(workers_per_site);
  std::vector<std::size_t> worker_site;
  CoordinatorOptions options;
  options.budget_trials = config.budget_trials;
  for (std::size_t i = 0; i < workers; ++i) {
    worker_site.push_back(i % config.sites.size());
    options.workers.push_back(static_cast<int>(i + 1));
    options.worker_site[static_cast<int>(i + 1)] = i % config.sites.size();
  }
  options.checkpoint = std::chrono::hours(24 * 365);         // one file at the end; there is no job to lose
  options.heartbeat_timeout = std::chrono::hours(24 * 365);  // virtual workers are never lost
  options.policy = placement.policy.get();
  options.clock = &clock;
  options.sites = placement.sites;
  options.idle_power_w = config.scheduling.idle_power_w;
  options.idle_wait = std::chrono::hours(1);
  store.set_attribute("placement", placement.policy->describe());
  store.set_attribute("forecast", placement.forecast);
  store.set_attribute("simulated", "1");
  store.set_attribute("cost_model", model.describe());

  SimulatedCluster cluster(clock, config, placement, worker_site, model);
  SuggestionLog log(clock);
  std::function<std::shared_ptr<search::AheadRunner>()> ahead;
  if (prepare_ahead) ahead = [&] { return log.make_ahead(); };
  auto study_sampler = search::make_study_sampler(config.space, config.arms, ahead);
  SuggestionTimer sampler(*study_sampler, log);
  SimulationSummary s;
  options.before_final_flush = [&] {
    double trial_time_s = 0.0;
    store.for_each_result([&](const io::TrialResult& r) { trial_time_s += r.end_unix_s - r.start_unix_s; });
    s.suggestions = log.calls();
    s.suggest_wall_s = log.wall_s();
    s.suggest_wait_fraction = log.wait_fraction(trial_time_s);
    store.set_attribute("suggest_wall_s", fmt::format("{:.6g}", s.suggest_wall_s));
    store.set_attribute("suggest_wait_fraction", fmt::format("{:.6g}", s.suggest_wait_fraction));
  };
  const double start_unix_s = clock.now_unix_s();
  const auto t0 = std::chrono::steady_clock::now();
  Coordinator coordinator(cluster, sampler, store, progress, std::move(options));
  const auto result = coordinator.run();
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.trials = result.trials_done;
  s.stopped = result.stopped;
  bool all_marginal = true;
  store.for_each_result([&](const io::TrialResult& r) {
    s.makespan_s = std::max(s.makespan_s, r.end_unix_s - start_unix_s);
    s.device_energy_j += r.energy_j;
    if (std::isfinite(r.co2_g)) s.trial_co2_g += r.co2_g;
    all_marginal &= !std::isnan(r.co2_marginal_g);
    s.co2_marginal_g += r.co2_marginal_g;
  });
  if (!all_marginal) s.co2_marginal_g = std::nan("");
  for (const auto& idle : result.idle) {
    s.idle_energy_j += idle.energy_j;
    s.idle_co2_g += idle.co2_g;
  }
  s.events = 2 * result.trials_done + static_cast<std::int64_t>(workers);
  return s;
}

namespace {

/// The value a --FLAG names; ConfigError listing the choices when it names none.
template <typename E, std::size_t N>
E flag_choice(const char* flag, const std::array<EnumName<E>, N>& names, const std::string& text) {
  const auto value = enum_from_name(names, text);
  if (!value) {
    throw ConfigError(
        fmt::format("simulate: --{} '{}' is not a {}; expected {}", flag, text, flag, enum_choices(names)));
  }
  return *value;
}

/// The command line's --trials, --policy and --forecast over the study file's values; what a
/// policy given there needs must be in the study file.
void apply_overrides(const SimulateOptions& o, study::StudyConfig& config) {
  if (o.trials) {
    if (*o.trials < 1 || *o.trials > study::kMaxTrials) {
      throw ConfigError(
          fmt::format("simulate: --trials must be an integer in [1, {}], got {}", study::kMaxTrials, *o.trials));
    }
    config.budget_trials = *o.trials;
  }
  if (o.policy) config.scheduling.policy = flag_choice("policy", study::kPolicyNames, *o.policy);
  if (o.forecast) config.scheduling.forecast = flag_choice("forecast", carbon::kForecastNames, *o.forecast);
  // What a policy given on the command line needs must be in the study file.
  if (config.scheduling.policy == study::PolicyKind::kDeferral && !(config.scheduling.max_delay_s > 0.0)) {
    throw ConfigError(
        fmt::format("{}: key 'max_delay' in [scheduling]: --policy deferral needs it, e.g. "
                    "max_delay = \"6h\"",
                    o.study_path));
  }
  if (config.scheduling.policy == study::PolicyKind::kCarbonBudget && !(config.scheduling.budget_g_co2 > 0.0)) {
    throw ConfigError(
        fmt::format("{}: key 'budget_g_co2' in [scheduling]: --policy carbon_budget needs it, e.g. "
                    "budget_g_co2 = 500",
                    o.study_path));
  }
}

void print_summary(const study::StudyConfig& config, const SimulateOptions& o, const scheduling::CostModel& model,
                   const SimulationSummary& s, const std::string& output) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double kwh = 1.0 / kJoulesPerKwh;
  std::cout << fmt::format("simulated '{}': {} workers ({} per site x {} sites), {} trials, policy {}\n", config.name,
                           static_cast<std::size_t>(o.workers_per_site) * config.sites.size(), o.workers_per_site,
                           config.sites.size(), s.trials, study::to_string(config.scheduling.policy))
            << fmt::format("cost model: {}\n", model.describe())
            << fmt::format(
                   "makespan {:.2f} h | device {:.3f} kWh | trials {:.1f} gCO2 | idle {:.3f} kWh {:.1f} gCO2 | "
                   "total {:.1f} gCO2{}\n",
                   s.makespan_s / 3600.0, s.device_energy_j * kwh, s.trial_co2_g, s.idle_energy_j * kwh, s.idle_co2_g,
                   s.trial_co2_g + s.idle_co2_g,
                   std::isnan(s.co2_marginal_g) ? "" : fmt::format(" | marginal {:.1f} gCO2", s.co2_marginal_g))
            << fmt::format("{} events in {:.2f} s: {:.0f} events/s, peak memory {:.0f} MiB\n", s.events, s.wall_s,
                           static_cast<double>(s.events) / std::max(s.wall_s, 1e-9),
                           static_cast<double>(usage.ru_maxrss) / 1024.0)
            << fmt::format(
                   "suggestions: {} in {:.2f} s of wall time ({:.2f} ms each); workers would wait {:.3g}% of "
                   "their time for them\n",
                   s.suggestions, s.suggest_wall_s,
                   1e3 * s.suggest_wall_s / std::max<double>(1.0, static_cast<double>(s.suggestions)),
                   100.0 * s.suggest_wait_fraction)
            << (s.stopped.empty() ? "" : "stopped early: " + s.stopped + "\n")
            << fmt::format("results: {}\n", std::filesystem::absolute(output).string());
}

}  // namespace

int run_simulate_command(const SimulateOptions& o) {
  auto config = study::load_study(o.study_path, o.overrides);
  apply_overrides(o, config);
  const std::string output =
      o.output ? *o.output : std::filesystem::path(config.output).replace_extension(".sim.h5").string();
  if (std::filesystem::exists(output) && !o.force) {
    throw ConfigError(fmt::format("{}: exists; pass --force to replace it, or -o another file", output));
  }
  const scheduling::CostModel model =
      o.cost_model ? scheduling::CostModel::fit(config, *o.cost_model) : scheduling::CostModel::analytic(config);
  io::StudyMeta meta{config.toml_text, config.space, config.sites, {"model"}, {}};
  meta.provenance = {{"tool_version", CS_VERSION},
                     {"git_sha", CS_GIT_SHA},
                     {"hosts", "simulated"},
                     {"created_utc", format_utc_timestamp(static_cast<double>(std::time(nullptr)))}};
  io::ResultsStore store(output, meta);
  Progress progress(std::cerr, config.budget_trials, ProgressStyle::kLines, std::chrono::seconds(2));
  const auto s = simulate(config, o.workers_per_site, model, store, progress, o.prepare_ahead);
  progress.close();
  print_summary(config, o, model, s, output);
  return 0;
}

}  // namespace cs::orchestrator
