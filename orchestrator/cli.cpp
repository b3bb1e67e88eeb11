// Subcommand dispatch with Boost.Program_options; one-line errors and exit codes.
#include "orchestrator/cli.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include "base/error.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "energy/meter_factory.hpp"
#include "energy/rapl_meter.hpp"
#include "energy/slurm_energy.hpp"
#include "io/export.hpp"
#include "nodes/image_dataset.hpp"
#include "orchestrator/run_study.hpp"
#include "orchestrator/simulate.hpp"
#include "report/report.hpp"
#include "slurm/sbatch.hpp"
#include "study/study_config.hpp"

namespace po = boost::program_options;

namespace cs::orchestrator {

namespace {

constexpr const char* kUsage =
    "usage: carbonsweep <command> [options]\n"
    "\n"
    "commands:\n"
    "  run STUDY.toml        run a study (under mpirun/srun, or alone in one process)\n"
    "  validate STUDY.toml   check a study file and its dataset without running\n"
    "  report RESULTS.h5 -o DIR             Markdown and HTML report with plots and statistics\n"
    "  export RESULTS.h5 --format csv|codecarbon [-o FILE]\n"
    "  meters                what can be measured on this node, with a live 2-second reading\n"
    "  simulate STUDY.toml --workers-per-site N   the study on virtual workers and a virtual clock\n"
    "  submit STUDY.toml [--dry-run]   write an sbatch script for the study and submit it to Slurm\n"
    "\n"
    "`carbonsweep <command> --help` shows the options of a command.\n";

/// Parses `args` (the words after the command), with `--help` and, unless `positional` is
/// null, one positional argument. nullopt when --help was asked for: the options are printed.
std::optional<po::variables_map> parse(const std::vector<std::string>& args, po::options_description& options,
                                       const char* positional = "study") {
  options.add_options()("help,h", "show this help");
  po::positional_options_description order;
  po::options_description all;
  all.add(options);
  if (positional) {
    order.add(positional, 1);
    all.add_options()(positional, po::value<std::string>(), "the input file");
  }
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(order).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << options << '\n';
    return std::nullopt;
  }
  return vm;
}

/// --set TABLE.KEY=VALUE, repeatable: a study setting from the command line (a quick run, a sweep
/// of Slurm array jobs), recorded in the results file with the study.
void add_set_option(po::options_description& options) {
  options.add_options()("set", po::value<std::vector<std::string>>()->composing(),
                        "TABLE.KEY=VALUE: override one setting of the study file (repeatable), e.g. --set "
                        "study.budget_trials=4 --set dataset.train_subset=500");
}

std::vector<std::string> overrides(const po::variables_map& vm) {
  return vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
}

std::string require(const po::variables_map& vm, const char* positional, const char* command) {
  if (!vm.count(positional)) {
    throw ConfigError(fmt::format("{}: missing the {} file; see `carbonsweep {} --help`", command,
                                  std::string(positional) == "study" ? "STUDY.toml" : "RESULTS.h5", command));
  }
  return vm[positional].as<std::string>();
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description options("carbonsweep validate STUDY.toml [--set TABLE.KEY=VALUE ...]");
  add_set_option(options);
  const auto parsed = parse(args, options);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  const auto config = study::load_study(require(vm, "study", "validate"), overrides(vm));
  check_runnable_here(config);
  std::vector<std::string> arms;
  for (const auto& a : config.arms) arms.push_back(a.name);
  std::cout << fmt::format("ok: study '{}': {} trials over {} parameters, arms {}, {} sites, output {}\n", config.name,
                           config.budget_trials, config.space.size(), fmt::join(arms, ", "), config.sites.size(),
                           config.output);
  for (const auto& site : config.sites) {
    if (site.trace.empty()) continue;
    const auto gaps = site.carbon->gaps();
    std::cout << fmt::format("site '{}': {}", site.name, site.carbon->describe());
    if (!gaps.empty()) {
      std::cout << fmt::format("; {} gap(s) longer than 3 h, the first from {:.0f} to {:.0f} (unix s)", gaps.size(),
                               gaps.front().from_unix_s, gaps.front().to_unix_s);
    }
    std::cout << '\n';
  }
  return 0;
}

int cmd_report(const std::vector<std::string>& args) {
  po::options_description options("carbonsweep report RESULTS.h5 -o DIR");
  options.add_options()("output,o", po::value<std::string>(), "report directory");
  const auto parsed = parse(args, options, "results");
  if (!parsed) return 0;
  const auto& vm = *parsed;
  const auto results = require(vm, "results", "report");
  if (!vm.count("output")) throw ConfigError("report: missing -o DIR");
  const auto files = report::write_report({results, vm["output"].as<std::string>()});
  if (!files.warning.empty()) std::cerr << "carbonsweep: warning: " << files.warning << '\n';
  std::cout << fmt::format("report: {}\nreport: {}\n", files.markdown, files.html);
  return 0;
}

int cmd_export(const std::vector<std::string>& args) {
  po::options_description options("carbonsweep export RESULTS.h5 --format csv|codecarbon [-o FILE]");
  options.add_options()("format", po::value<std::string>()->default_value("csv"), "csv or codecarbon")(
      "output,o", po::value<std::string>(), "output file (default: RESULTS.csv or emissions.csv beside it)");
  const auto parsed = parse(args, options, "results");
  if (!parsed) return 0;
  const auto& vm = *parsed;
  const auto results = require(vm, "results", "export");
  const auto format = vm["format"].as<std::string>();
  if (format != "csv" && format != "codecarbon") {
    throw ConfigError(fmt::format("export: unknown --format '{}'; expected csv or codecarbon", format));
  }
  const std::filesystem::path base(results);
  std::string out = (base.parent_path() / (format == "csv" ? base.stem().string() + ".csv" : "emissions.csv")).string();
  if (vm.count("output")) out = vm["output"].as<std::string>();
  const auto rows = format == "csv" ? io::export_csv(results, out) : io::export_codecarbon(results, out);
  std::cout << fmt::format("exported {} trials to {}\n", rows, out);
  return 0;
}

int cmd_meters(const std::vector<std::string>& args) {
  po::options_description options("carbonsweep meters [--seconds S]");
  options.add_options()("seconds", po::value<double>()->default_value(2.0), "length of the live reading");
  const auto parsed = parse(args, options, nullptr);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  const double seconds = vm["seconds"].as<double>();
  if (!(seconds > 0.0 && seconds <= 600.0)) throw ConfigError("meters: --seconds must be in (0, 600]");
  energy::MeterOptions raw;
  raw.apportion_shared_meters = false;  // show what each meter reads, before any sharing
  for (const auto& name : energy::known_meter_names()) {
    if (name == "external") continue;  // needs a study's power log
    auto meter = energy::make_meter(name, raw);
    const auto label =
        fmt::format("{:<9} {:<9} {:<8}", name, energy::to_string(meter->kind()), energy::to_string(meter->scope()));
    const std::string why = meter->unavailable_reason();
    if (!why.empty()) {
      std::cout << fmt::format("{} unavailable: {}\n", label, why);
      continue;
    }
    const auto before = meter->read();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << fmt::format("{} {:.2f} W over {:.1f} s", label, (meter->read() - before).value / elapsed, elapsed);
    if (const auto* rapl = dynamic_cast<const energy::RaplMeter*>(meter.get())) {
      for (const auto& [domain, joules] : rapl->domain_energy_j()) {
        std::cout << fmt::format(" | {} {:.2f} W", domain, joules / elapsed);
      }
    }
    std::cout << '\n';
  }
  const auto slurm = energy::read_slurm_step_energy();
  std::cout << fmt::format(
      "{:<9} {:<9} {:<8} {}\n", "slurm", "hardware", "job step",
      slurm.energy ? fmt::format("{:.1f} J so far", slurm.energy->value) : "unavailable: " + slurm.reason);
  std::cout << "external  hardware  node     needs a power log: [energy] external_log in a study file\n"
               "(process: this process only; node: the whole node, shared among co-located ranks by CPU time\n"
               " during a study; device: the GPUs this rank owns, by CUDA_VISIBLE_DEVICES)\n";
  return 0;
}

int cmd_run(int* argc, char*** argv, const std::vector<std::string>& args) {
  po::options_description options("carbonsweep run STUDY.toml [options]");
  options.add_options()("output,o", po::value<std::string>(), "results file (overrides [study] output)")(
      "threads", po::value<int>(), "LibTorch threads per worker (overrides [training] threads)")(
      "resume", "continue an interrupted run: keep its finished trials, re-run the rest")(
      "force", "replace an existing results file and journal")(
      "progress", po::value<std::string>(),
      "auto (default): redrawn on a terminal, else lines at most every 30 s plus each new best and the end; "
      "tty, lines or off");
  add_set_option(options);
  const auto parsed = parse(args, options);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  RunOptions run;
  if (vm.count("progress")) {
    run.progress = vm["progress"].as<std::string>();
    if (*run.progress != "auto" && !enum_from_name(kProgressStyleNames, *run.progress)) {
      throw ConfigError(
          fmt::format("--progress '{}': expected \"auto\", {}", *run.progress, enum_choices(kProgressStyleNames)));
    }
  }
  run.study_path = require(vm, "study", "run");
  run.overrides = overrides(vm);
  if (vm.count("output")) run.output = vm["output"].as<std::string>();
  if (vm.count("threads")) {
    run.threads = vm["threads"].as<int>();
    if (*run.threads < 1 || *run.threads > study::max_threads()) {
      throw ConfigError(fmt::format("--threads must be an integer in [1, {}] (four times this node's cores), got {}",
                                    study::max_threads(), *run.threads));
    }
  }
  run.force = vm.count("force") > 0;
  run.resume = vm.count("resume") > 0;
  if (run.force && run.resume) throw ConfigError("--force and --resume exclude each other");
  return run_study(argc, argv, run);
}

int cmd_simulate(const std::vector<std::string>& args) {
  po::options_description options("carbonsweep simulate STUDY.toml --workers-per-site N [options]");
  const std::string policy_help = "overrides [scheduling] policy: " + enum_choices(study::kPolicyNames);
  const std::string forecast_help = "overrides [scheduling] forecast: " + enum_choices(carbon::kForecastNames);
  options.add_options()("workers-per-site", po::value<int>(), "virtual workers at each site")(
      "output,o", po::value<std::string>(), "results file (default: [study] output with .sim.h5)")(
      "cost-model", po::value<std::string>(), "fit the cost model on this results file (default: [simulate])")(
      "trials", po::value<std::int64_t>(), "overrides [study] budget_trials")("policy", po::value<std::string>(),
                                                                              policy_help.c_str())(
      "forecast", po::value<std::string>(), forecast_help.c_str())("force", "replace an existing output")(
      "no-prepare-ahead", "Bayesian arms fit each batch only when it is needed (to compare: bench/bo_scale.sh)");
  add_set_option(options);
  const auto parsed = parse(args, options);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  SimulateOptions o;
  o.prepare_ahead = vm.count("no-prepare-ahead") == 0;
  o.study_path = require(vm, "study", "simulate");
  o.overrides = overrides(vm);
  if (!vm.count("workers-per-site")) throw ConfigError("simulate: --workers-per-site N is required");
  o.workers_per_site = vm["workers-per-site"].as<int>();
  if (o.workers_per_site < 1 || o.workers_per_site > 1'000'000) {
    throw ConfigError("simulate: --workers-per-site must be in [1, 1000000]");
  }
  if (vm.count("output")) o.output = vm["output"].as<std::string>();
  if (vm.count("cost-model")) o.cost_model = vm["cost-model"].as<std::string>();
  if (vm.count("trials")) o.trials = vm["trials"].as<std::int64_t>();
  if (vm.count("policy")) o.policy = vm["policy"].as<std::string>();
  if (vm.count("forecast")) o.forecast = vm["forecast"].as<std::string>();
  o.force = vm.count("force") > 0;
  return run_simulate_command(o);
}

int cmd_submit(const std::vector<std::string>& args) {
  po::options_description options("carbonsweep submit STUDY.toml [options]");
  options.add_options()("output,o", po::value<std::string>(), "results file (overrides [study] output)")(
      "dry-run", "print the batch script and write nothing");
  const auto parsed = parse(args, options);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  auto config = study::load_study(require(vm, "study", "submit"));
  if (vm.count("output")) config.output = vm["output"].as<std::string>();
  const auto plan = slurm::plan_submission(config, std::filesystem::read_symlink("/proc/self/exe").string());
  if (vm.count("dry-run")) {
    std::cout << plan.script;
    return 0;
  }
  const std::string job = slurm::submit(plan);
  std::cout << fmt::format(
      "submitted job {} ({} tasks): script {}\nlog: {}\nresults: {}\nfollow it with: squeue -j {}\n", job, plan.ntasks,
      plan.script_path, plan.log_path, std::filesystem::absolute(config.output).string(), job);
  return 0;
}

}  // namespace

int cli_main(int argc, char** argv) {
  try {
    if (argc < 2) {  // a mistake: the usage goes where errors go
      std::cerr << "carbonsweep: error: no command given\n" << kUsage;
      return 2;
    }
    if (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
      std::cout << kUsage;
      return 0;
    }
    const std::string command = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (command == "run") return cmd_run(&argc, &argv, args);
    if (command == "validate") return cmd_validate(args);
    if (command == "report") return cmd_report(args);
    if (command == "export") return cmd_export(args);
    if (command == "meters") return cmd_meters(args);
    if (command == "simulate") return cmd_simulate(args);
    if (command == "submit") return cmd_submit(args);
    std::cerr << fmt::format("carbonsweep: error: unknown command '{}'\n{}", command, kUsage);
    return 2;
  } catch (const po::error& e) {
    std::cerr << "carbonsweep: error: " << e.what() << '\n';
    return 2;
  } catch (const ConfigError& e) {
    std::cerr << "carbonsweep: error: " << e.what() << '\n';
    return 2;
  } catch (const IoError& e) {
    std::cerr << "carbonsweep: error: " << e.what() << '\n';
    return 2;
  } catch (const MeterError& e) {
    std::cerr << "carbonsweep: error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "carbonsweep: internal error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace cs::orchestrator
