// What a simulated trial costs and yields: duration, power and objective from its parameters,
// given analytically or fitted to the trials of an existing results file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/trial_spec.hpp"
#include "study/study_config.hpp"

namespace cs::scheduling {

struct TrialCost {
  double duration_s = 0.0;
  double power_w = 0.0;
  double objective = 0.0;
};

class CostModel {
 public:
  /// [simulate] trial_duration, trial_power_w and duration_per_unit; the function family's
  /// objective is -f(x), a CNN's is not modelled (0) unless fitted.
  static CostModel analytic(const study::StudyConfig& config);
  /// Least squares on the completed trials of `results_path`, features = the unit coordinates
  /// of the study's parameters: log duration, mean power and objective. Throws IoError or
  /// ConfigError (too few trials, parameters missing from the file).
  static CostModel fit(const study::StudyConfig& config, const std::string& results_path);

  /// Deterministic in (seed, trial id): the objective's noise is a counter-based draw.
  TrialCost predict(const search::TrialSpec& spec, std::uint64_t seed) const;
  const std::string& describe() const { return description_; }

 private:
  explicit CostModel(const study::StudyConfig& config) : space_(config.space) {}
  std::vector<double> features(const search::TrialSpec& spec) const;

  search::SearchSpace space_;
  std::string function_;                                  ///< the function family's test function, or empty
  std::vector<double> log_duration_, power_, objective_;  ///< coefficients over [1, unit coordinates]
  double objective_noise_sd_ = 0.0;
  std::string description_;
};

}  // namespace cs::scheduling
