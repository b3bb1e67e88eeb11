// Start-up agreement, role split, and the end-of-study report of `carbonsweep run`.
#include "orchestrator/run_study.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "base/utc_time.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "energy/meter_factory.hpp"
#include "energy/slurm_energy.hpp"
#include "io/hdf5.hpp"
#include "io/results_store.hpp"
#include "nodes/image_dataset.hpp"
#include "nodes/trainer.hpp"
#include "nodes/trial_executor.hpp"
#include "orchestrator/coordinator.hpp"
#include "orchestrator/mpi_transport.hpp"
#include "orchestrator/signals.hpp"
#include "orchestrator/site_map.hpp"
#include "orchestrator/worker.hpp"
#include "scheduling/placement.hpp"
#include "search/arms_sampler.hpp"
#include "search/prepare_ahead.hpp"

#ifndef CS_VERSION
#define CS_VERSION "0.0.0"
#endif
#ifndef CS_GIT_SHA
#define CS_GIT_SHA "unknown"
#endif

namespace cs::orchestrator {

namespace {

study::StudyConfig load_and_check(const RunOptions& options, bool is_coordinator) {
  study::StudyConfig config = study::load_study(options.study_path, options.overrides);
  if (options.output) config.output = *options.output;
  if (options.threads) config.training.threads = *options.threads;
  check_runnable_here(config);
  if (is_coordinator) io::check_output_path(config.output);
  std::error_code ec;
  const bool exists =
      std::filesystem::exists(config.output, ec) || std::filesystem::exists(config.output + ".journal", ec);
  if (is_coordinator && exists && !options.force && !options.resume) {
    throw ConfigError(
        fmt::format("{}: results of an earlier run exist; pass --resume to continue it, --force to replace it, or "
                    "set another output",
                    config.output));
  }
  return config;
}

io::StudyMeta study_meta(const study::StudyConfig& config, const std::vector<std::string>& hosts,
                         const std::string& mpi) {
  const std::set<std::string> unique_hosts(hosts.begin(), hosts.end());
  io::StudyMeta meta{config.toml_text, config.space, config.sites, study::recorded_meters(config), {}};
  meta.meter_interval_s = std::chrono::duration<double>(config.energy.interval).count();
  meta.idle_baseline_s = std::chrono::duration<double>(config.energy.idle_baseline).count();
  meta.provenance = {
      {"tool_version", CS_VERSION},
      {"git_sha", CS_GIT_SHA},
      {"hosts", fmt::format("{}", fmt::join(unique_hosts, ","))},
      {"libraries", fmt::format("{}; {}; libtorch {}", io::h5::library_version(), mpi, nodes::torch_version())},
      {"created_utc", format_utc_timestamp(static_cast<double>(std::time(nullptr)))},
  };
  if (const char* job = std::getenv("SLURM_JOB_ID")) meta.provenance["slurm_job_id"] = job;
  if (const char* step = std::getenv("SLURM_STEP_ID")) meta.provenance["slurm_step_id"] = step;
  return meta;
}

/// Rank 0: a fresh results file, or the finished trials of an interrupted run (--resume).
io::ResumeReport open_store(io::ResultsStore& store, const RunOptions& options) {
  if (io::open_output_folder(store.path())) {
    std::cerr << fmt::format("note: created the output folder {}\n",
                             std::filesystem::absolute(store.path()).parent_path().string());
  }
  if (!options.resume) {
    store.start_fresh();
    return {};
  }
  return store.open_for_resume();
}

/// How rank 0's study ended: the exit code, and the workers lost on the way (they cannot take
/// part in MPI_Finalize).
struct StudyEnd {
  int code = 0;
  std::size_t lost_workers = 0;
};

/// Rank 0's study: `worker_site` maps each worker rank to its index in config.sites.
StudyEnd coordinate(Transport& transport, const study::StudyConfig& config, io::ResultsStore& store,
                    const std::map<int, std::size_t>& worker_site, double run_start_unix_s,
                    const io::ResumeReport& resumed, ProgressStyle style) {
  // Bayesian arms prepare their next batch on a thread of their own while the coordinator serves.
  auto sampler = search::make_study_sampler(config.space, config.arms,
                                            [] { return std::make_shared<search::ThreadAheadRunner>(); });
  auto pruner =
      search::make_pruner(config.pruner.kind, config.pruner.warmup_epochs, config.pruner.min_trials, config.pruner.eta);
  Progress progress(std::cerr, config.budget_trials, style);
  for (std::size_t s = 0; s < config.sites.size(); ++s) {
    if (std::none_of(worker_site.begin(), worker_site.end(), [&](const auto& w) { return w.second == s; })) {
      progress.note(fmt::format("warning: site '{}' has no worker ({} worker rank(s) for {} sites): it runs no trials",
                                config.sites[s].name, worker_site.size(), config.sites.size()));
    }
  }
  // Pricing time, as the workers price their trials: the wall clock, or [time] start replayed at scale.
  const scheduling::WallClock clock(config.time.start_unix_s, config.time.scale, run_start_unix_s);
  auto placement = scheduling::make_study_placement(config, clock.now_unix_s());
  store.set_attribute("placement", placement.policy->describe());
  store.set_attribute("forecast", placement.forecast);
  CoordinatorOptions options;
  options.budget_trials = config.budget_trials;
  options.pruner = pruner.get();
  options.epochs_per_trial = config.training.epochs;
  options.checkpoint = config.checkpoint;
  for (const auto& [rank, site] : worker_site) options.workers.push_back(rank);
  options.policy = placement.policy.get();
  options.clock = &clock;
  options.sites = placement.sites;
  options.worker_site = worker_site;
  options.idle_power_w = config.scheduling.idle_power_w;
  options.stop_signal = stop_signal;
  options.heartbeat_timeout = config.faults.heartbeat_timeout;
  options.heartbeat_interval = study::heartbeat_interval(config.faults);
  options.retries = config.faults.retries;
  // Random and grid search never learn from a result, so the next trial need not wait for the
  // result's fsync (fifo placement: the carbon-aware policies weigh the results counted so far).
  options.assign_before_commit =
      config.scheduling.policy == study::PolicyKind::kFifo &&
      std::all_of(config.arms.begin(), config.arms.end(), [](const search::SamplerOptions& arm) {
        return arm.strategy == "random" || arm.strategy == "grid" || arm.strategy == "sampled_grid";
      });
  // SIGUSR1 comes [slurm] signal_before ahead of the time limit; keep 10 s of it to write the file.
  options.grace =
      std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, config.slurm.signal_before_s - 10.0) * 1000.0));
  Coordinator coordinator(transport, *sampler, store, progress, std::move(options));
  if (!resumed.source.empty()) {
    progress.note(fmt::format(
        "resuming from {}: {} finished trial(s) kept{}", resumed.source, resumed.recovered,
        resumed.torn_bytes ? fmt::format(", a torn last record of {} bytes dropped", resumed.torn_bytes) : ""));
    coordinator.resume(store.results());
  }
  const auto summary = coordinator.run();
  progress.close();
  std::set<std::string> gpus;  // provenance: the GPUs the trials ran on, with their driver
  store.for_each_result([&](const io::TrialResult& r) {
    if (!r.gpu.empty()) gpus.insert(io::describe_gpu(r));
  });
  if (!gpus.empty()) store.set_attribute("gpus", fmt::format("{}", fmt::join(gpus, "; ")));
  store.set_attribute("faults", fmt::format("lost workers: {}; requeued trials: {}; retried attempts: {}",
                                            summary.lost.size(), summary.requeued, summary.retried));
  store.flush();
  const std::size_t lost = summary.lost.size();
  if (!summary.stopped.empty()) std::cout << "stopped early: " << summary.stopped << '\n';
  if (summary.interrupted) {
    std::cerr << fmt::format(
        "carbonsweep: {} of {} trials done and kept in {}; continue with `carbonsweep run {} --resume`\n",
        summary.trials_done, config.budget_trials, store.path(), config.path);
    return {kExitInterrupted, lost};
  }
  // Slurm's own reading of the job step, beside ours; or why there is none.
  const auto slurm = energy::read_slurm_step_energy();
  store.set_attribute("slurm_energy", slurm.energy ? fmt::format("{:.1f} J", slurm.energy->value) : slurm.reason);
  store.flush();
  std::cout << fmt::format("study '{}': {} trials done, {} failed\n", config.name, summary.trials_done,
                           summary.trials_failed)
            << site_summary([&](const auto& visit) { store.for_each_result(visit); })
            << fmt::format("results: {}\n", std::filesystem::absolute(store.path()).string());
  if (summary.trials_done < config.budget_trials && summary.stopped.empty()) {
    std::cerr << fmt::format("carbonsweep: error: only {} of {} trials ran; see the warnings above\n",
                             summary.trials_done, config.budget_trials);
    return {1, lost};
  }
  return {0, lost};
}

}  // namespace

void check_runnable_here(const study::StudyConfig& config) {
  if (config.model.family == study::ModelFamily::kFunction) return;
  nodes::check_dataset(config.dataset);
  try {
    nodes::check_network(config.model, config.dataset);
  } catch (const ConfigError& e) {
    throw ConfigError(study::key_error(config, "model.path", e.what()));
  }
  if (config.training.device == study::Device::kCuda && nodes::cuda_device_count() == 0) {
    throw ConfigError(study::key_error(config, "training.device",
                                       "\"cuda\", but LibTorch here sees no CUDA device (a CPU build of LibTorch, or "
                                       "no GPU on this node)"));
  }
  try {
    energy::make_meters(config.energy.meters, study::meter_options(config));  // can they read here?
  } catch (const MeterError& e) {
    throw ConfigError(study::key_error(config, "energy.meters", e.what()));
  }
}

int worker_threads(int configured, int workers_on_node, int node_cores) {
  if (configured > 0) return configured;
  return std::max(1, node_cores / std::max(1, workers_on_node));
}

namespace {

/// A study every rank has agreed to run: its configuration, rank 0's results store and what it
/// resumed, the ranks' hosts, and the run's start (rank 0's clock) for pricing time.
struct AgreedStudy {
  study::StudyConfig config;
  std::unique_ptr<io::ResultsStore> store;
  io::ResumeReport resumed;
  std::vector<std::string> hosts;
  double run_start_unix_s = 0.0;
  int node_cores = 1;
  ProgressStyle progress = ProgressStyle::kLines;
};

/// How a worker builds its trial executor (loading the dataset) once it runs.
std::function<std::unique_ptr<nodes::TrialExecutor>()> executor_for(const AgreedStudy& study,
                                                                    nodes::WorkerIdentity identity) {
  identity.run_start_unix_s = study.run_start_unix_s;
  identity.slurm = nodes::slurm_ids_from_environment();
  return [&config = study.config, identity] {
    nodes::set_torch_threads(identity.threads);
    return nodes::make_trial_executor(config, identity);
  };
}

WorkerOptions worker_options(const study::StudyConfig& config) {
  WorkerOptions o;
  o.epochs_answered = config.pruner.kind != search::PrunerKind::kNone;
  o.heartbeat_interval = study::heartbeat_interval(config.faults);
  o.trial_timeout = config.faults.trial_timeout;
  o.stop_signal = stop_signal;
  return o;
}

/// One rank alone: the coordinator and one worker in one process, over in-process queues.
int run_in_one_process(AgreedStudy& study) {
  InProcessHub hub(2);
  const auto site_index = assign_sites(study.config.sites, {study.hosts[0]})[0];
  const int threads = worker_threads(study.config.training.threads, 1, study.node_cores);
  std::jthread worker([&] {
    run_worker(hub.endpoint(1), worker_options(study.config),
               executor_for(study, {0, study.hosts[0], study.config.sites[site_index], threads, 0, 1}));
  });
  try {
    return coordinate(hub.endpoint(0), study.config, *study.store, {{1, site_index}}, study.run_start_unix_s,
                      study.resumed, study.progress)
        .code;  // one process: its worker thread cannot be lost
  } catch (...) {
    hub.endpoint(0).send(1, Shutdown{"the coordinator failed"});  // let the worker thread end
    throw;
  }
}

/// Rank 0 coordinates over MPI; every other rank is a worker at the site the map gives it.
int run_on_ranks(MpiSession& mpi, AgreedStudy& study) {
  MpiTransport transport(mpi);
  const bool is_coordinator = mpi.rank() == 0;
  const auto workers_here = mpi.count_on_node(!is_coordinator);
  const std::vector<std::string> worker_hosts(study.hosts.begin() + 1, study.hosts.end());
  const auto worker_sites = assign_sites(study.config.sites, worker_hosts);
  if (is_coordinator) {
    if (const auto empty = sites_without_workers(study.config.sites, worker_sites); !empty.empty()) {
      const auto names = fmt::format("{}", fmt::join(empty, ", "));
      std::cerr << fmt::format(
          "carbonsweep: warning: {} worker rank(s) for {} sites: no worker stands at {}; start at least {} ranks "
          "to run trials at every site\n",
          worker_sites.size(), study.config.sites.size(), names, study.config.sites.size() + 1);
      study.store->set_attribute("sites_without_workers", names);
    }
    std::map<int, std::size_t> worker_site;
    for (int r = 1; r < mpi.size(); ++r) worker_site[r] = worker_sites[static_cast<std::size_t>(r - 1)];
    try {
      const auto end = coordinate(transport, study.config, *study.store, worker_site, study.run_start_unix_s,
                                  study.resumed, study.progress);
      if (end.lost_workers > 0) {
        // A lost worker (stopped, or dead under --enable-recovery) cannot take part in MPI_Finalize:
        // the results are written, so end the job here and free its nodes.
        const int code = end.code == 0 ? kExitWorkersLost : end.code;
        std::cerr << fmt::format(
            "carbonsweep: {} worker(s) were lost; the results are written; ending the job "
            "(MPI_Abort, exit {})\n",
            end.lost_workers, code);
        MPI_Abort(MPI_COMM_WORLD, code);
        // Under --enable-recovery, Open MPI 4.1's MPI_Abort can return without ending the job; this
        // rank must not then wait in MPI_Finalize for the lost one.
        std::cout.flush();
        std::cerr.flush();
        std::_Exit(code);
      }
      return end.code;
    } catch (const std::exception& e) {
      // The workers wait for this rank; end the whole job rather than leave it hanging.
      std::cerr << "carbonsweep: error: " << e.what() << '\n';
      MPI_Abort(MPI_COMM_WORLD, 1);
      return 1;
    }
  }
  const auto rank = static_cast<std::size_t>(mpi.rank());
  const auto& site = study.config.sites[worker_sites[rank - 1]];
  const int threads = worker_threads(study.config.training.threads, workers_here.count, study.node_cores);
  const auto end = run_worker(
      transport, worker_options(study.config),
      executor_for(study, {mpi.rank(), study.hosts[rank], site, threads, workers_here.index, workers_here.count}));
  return end.interrupted ? kExitInterrupted : 0;
}

/// The study on this rank, within its MPI session.
int run_in_session(MpiSession& mpi, const RunOptions& options) {
  install_stop_signals();  // SIGTERM / SIGINT / SIGUSR1: finish cleanly, keep everything finished
  const bool is_coordinator = mpi.rank() == 0;
  AgreedStudy study;
  study.hosts = mpi.all_hosts();
  study.progress = !options.progress || *options.progress == "auto"
                       ? auto_progress_style(isatty(STDERR_FILENO) == 1)
                       : *enum_from_name(kProgressStyleNames, *options.progress);  // checked by the CLI

  // Every rank checks the input; the lowest failing rank prints its one-line error and all
  // exit 2. Only once all agree does rank 0 create or reopen the results (a second agreement).
  const auto agree = [&mpi](const std::function<void()>& step) {
    std::string error;
    try {
      step();
    } catch (const Error& e) {
      error = e.what();
    }
    const int failing = mpi.lowest_failing_rank(!error.empty());
    if (failing == mpi.rank()) std::cerr << "carbonsweep: error: " << error << '\n';
    return failing < 0;
  };
  if (!agree([&] {
        study.config = load_and_check(options, is_coordinator);
        if (mpi.size() > 1) {  // one process alone is a quick local run: sites without a worker are warned about
          check_sites_fit_job(study.config.sites, {study.hosts.begin() + 1, study.hosts.end()}, study.config.path);
        }
        if (is_coordinator) {
          study.store = std::make_unique<io::ResultsStore>(
              study.config.output, study_meta(study.config, study.hosts, mpi.library_version()));
        }
      })) {
    return 2;
  }
  if (!agree([&] {
        if (is_coordinator) study.resumed = open_store(*study.store, options);
      })) {
    return 2;
  }
  study.node_cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  study.run_start_unix_s = mpi.broadcast_from_root(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  return mpi.size() == 1 ? run_in_one_process(study) : run_on_ranks(mpi, study);
}

}  // namespace

int run_study(int* argc, char*** argv, const RunOptions& options) {
  MpiSession mpi(argc, argv);
  const int code = run_in_session(mpi, options);
  mpi.set_exit_code(code);
  return code;
}

}  // namespace cs::orchestrator
