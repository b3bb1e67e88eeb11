// `carbonsweep simulate`: the real coordinator, samplers and placement policies driving
// thousands of virtual workers on a virtual clock, with trial costs from a cost model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/results_store.hpp"
#include "orchestrator/progress.hpp"
#include "scheduling/cost_model.hpp"
#include "study/study_config.hpp"

namespace cs::orchestrator {

struct SimulateOptions {
  std::string study_path;
  std::vector<std::string> overrides;  ///< --set TABLE.KEY=VALUE
  int workers_per_site = 1;
  std::optional<std::string> output;      ///< default: [study] output with ".sim.h5"
  std::optional<std::string> cost_model;  ///< a results file to fit the cost model on
  std::optional<std::int64_t> trials;     ///< overrides [study] budget_trials
  std::optional<std::string> policy;      ///< overrides [scheduling] policy
  std::optional<std::string> forecast;    ///< overrides [scheduling] forecast
  bool force = false;                     ///< replace an existing output
  bool prepare_ahead = true;              ///< Bayesian arms prepare their next batch ahead
};

struct SimulationSummary {
  std::int64_t trials = 0;
  double makespan_s = 0.0;  ///< virtual seconds from the start to the last trial's end
  double device_energy_j = 0.0, trial_co2_g = 0.0, idle_energy_j = 0.0, idle_co2_g = 0.0;
  double co2_marginal_g = 0.0;  ///< trials at the sites' marginal traces; NaN when a site has none
  std::int64_t events = 0;      ///< messages the coordinator handled
  double wall_s = 0.0;
  std::int64_t suggestions = 0;        ///< sampler calls
  double suggest_wall_s = 0.0;         ///< wall seconds the sampler spent on them
  double suggest_wait_fraction = 0.0;  ///< of worker time, waiting for a suggestion (see SuggestionTimer)
  std::string stopped;                 ///< why the policy stopped early, if it did
};

/// The simulation proper, writing into `store` (no journal). `config` is the study with any
/// overrides applied; the clock starts at [time] start, else at the latest first point of the
/// sites' traces, else now.
SimulationSummary simulate(const study::StudyConfig& config, int workers_per_site, const scheduling::CostModel& model,
                           io::ResultsStore& store, Progress& progress, bool prepare_ahead = true);

/// The command: loads the study, builds the cost model, runs, prints a summary. Exit code.
int run_simulate_command(const SimulateOptions& options);

}  // namespace cs::orchestrator
