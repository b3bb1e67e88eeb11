// Analytic and fitted cost models for the simulator.
#include "scheduling/cost_model.hpp"

#include <Eigen/Dense>

#include <cmath>

#include <fmt/format.h>

#include "base/error.hpp"
#include "io/results_store.hpp"
#include "search/sampler.hpp"
#include "search/test_functions.hpp"

namespace cs::scheduling {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

/// Least-squares coefficients and the coefficient of determination.
std::pair<std::vector<double>, double> least_squares(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  const Eigen::VectorXd beta = x.colPivHouseholderQr().solve(y);
  const double ss_res = (x * beta - y).squaredNorm();
  const double ss_tot = (y.array() - y.mean()).matrix().squaredNorm();
  return {std::vector<double>(beta.data(), beta.data() + beta.size()), ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0};
}

}  // namespace

std::vector<double> CostModel::features(const search::TrialSpec& spec) const {
  std::vector<double> f{1.0};
  for (std::size_t k = 0; k < space_.size(); ++k) {
    const auto& name = space_.params()[k].name;
    double u = 0.5;
    for (const auto& p : spec.params) {
      if (p.name == name) u = space_.to_unit(k, p.value);
    }
    f.push_back(u);
  }
  return f;
}

CostModel CostModel::analytic(const study::StudyConfig& config) {
  CostModel m(config);
  const auto& s = config.simulate;
  const std::size_t n = config.space.size() + 1;
  // duration = trial_duration x (1 + duration_per_unit x mean unit coordinate): log-linear, so
  // it is linearised around the mean; power is constant.
  m.log_duration_.assign(n, 0.0);
  m.log_duration_[0] = std::log(s.trial_duration_s);
  for (std::size_t k = 1; k < n; ++k) {
    m.log_duration_[k] = std::log1p(s.duration_per_unit) / static_cast<double>(n - 1);
  }
  m.power_.assign(n, 0.0);
  m.power_[0] = s.trial_power_w;
  m.objective_.assign(n, 0.0);
  if (config.model.family == study::ModelFamily::kFunction) {
    m.function_ = config.model.function;
    m.objective_noise_sd_ = config.model.noise_sd;
  }
  m.description_ =
      fmt::format("analytic: duration {} s x (1 + {})^(mean unit coordinate), power {} W, objective {}",
                  s.trial_duration_s, s.duration_per_unit, s.trial_power_w,
                  m.function_.empty() ? std::string("not modelled (0); fit one with --cost-model RESULTS.h5")
                                      : fmt::format("-{}(x) + N(0, {})", m.function_, m.objective_noise_sd_));
  return m;
}

CostModel CostModel::fit(const study::StudyConfig& config, const std::string& results_path) {
  CostModel m(config);
  const auto loaded = io::load_results(results_path);
  std::vector<const io::TrialResult*> trials;
  for (const auto& r : loaded.trials) {
    if (r.status == search::TrialStatus::kCompleted && r.end_unix_s > r.start_unix_s && r.energy_j > 0) {
      trials.push_back(&r);
    }
  }
  const std::size_t n = config.space.size() + 1;
  if (trials.size() < n + 2) {
    throw ConfigError(fmt::format("{}: {} completed trials; fitting a cost model over {} parameters needs at least {}",
                                  results_path, trials.size(), config.space.size(), n + 2));
  }
  for (const auto& p : config.space.params()) {
    bool found = false;
    for (const auto& q : trials.front()->spec.params) found |= q.name == p.name;
    if (!found) {
      throw ConfigError(fmt::format("{}: has no parameter '{}' of the study's search space", results_path, p.name));
    }
  }
  Eigen::MatrixXd x(static_cast<Eigen::Index>(trials.size()), static_cast<Eigen::Index>(n));
  Eigen::VectorXd log_duration(x.rows()), power(x.rows()), objective(x.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const auto& r = *trials[static_cast<std::size_t>(i)];
    const auto f = m.features(r.spec);
    for (std::size_t k = 0; k < n; ++k) x(i, static_cast<Eigen::Index>(k)) = f[k];
    const double duration_s = r.end_unix_s - r.start_unix_s;
    log_duration(i) = std::log(duration_s);
    power(i) = r.energy_j / duration_s;
    objective(i) = r.objective;
  }
  double r2_duration = 0, r2_power = 0, r2_objective = 0;
  std::tie(m.log_duration_, r2_duration) = least_squares(x, log_duration);
  std::tie(m.power_, r2_power) = least_squares(x, power);
  std::tie(m.objective_, r2_objective) = least_squares(x, objective);
  Eigen::VectorXd beta = Eigen::Map<Eigen::VectorXd>(m.objective_.data(), static_cast<Eigen::Index>(n));
  m.objective_noise_sd_ = std::sqrt((x * beta - objective).squaredNorm() / static_cast<double>(x.rows()));
  m.description_ = fmt::format(
      "fitted on {} completed trials of {}: linear in the parameters' unit coordinates; R^2 log duration {:.3f}, "
      "power {:.3f}, objective {:.3f} (residual sd {:.4f} added as noise)",
      trials.size(), results_path, r2_duration, r2_power, r2_objective, m.objective_noise_sd_);
  return m;
}

TrialCost CostModel::predict(const search::TrialSpec& spec, std::uint64_t seed) const {
  const auto f = features(spec);
  TrialCost c;
  c.duration_s = std::exp(dot(log_duration_, f));
  c.power_w = std::max(0.0, dot(power_, f));
  const double noise = objective_noise_sd_ > 0
                           ? objective_noise_sd_ * search::counter_normal(seed, static_cast<std::uint64_t>(spec.id))
                           : 0.0;
  if (!function_.empty()) {
    std::vector<double> x;
    for (const auto& p : space_.params()) x.push_back(search::param_as_double(spec.params, p.name));
    c.objective = -search::evaluate_test_function(function_, x) + noise;
  } else {
    c.objective = dot(objective_, f) + noise;
  }
  return c;
}

}  // namespace cs::scheduling
