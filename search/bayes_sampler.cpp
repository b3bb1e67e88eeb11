// Bayesian optimisation over the encoded search space.
#include "search/bayes_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include <fmt/format.h>
#include <boost/math/distributions/normal.hpp>

#include "base/error.hpp"
#include "search/power_warp.hpp"

namespace cs::search {

namespace {

constexpr std::uint64_t kStreamLhs = 0x6c6873;
constexpr std::uint64_t kStreamCandidates = 0x63616e64;
constexpr std::uint64_t kStreamParego = 0x70617265;
constexpr std::uint64_t kStreamSubset = 0x73756273;
// Random candidates for the acquisition: many while the GP is small, fewer once prediction
// costs O(n^2) per candidate.
constexpr int kCandidatesSmall = 2048, kCandidatesLarge = 512, kSmallHistory = 100;
constexpr std::uint64_t kStreamLocal = 0x6c6f63;
constexpr std::uint64_t kStreamRefine = 0x726566;
constexpr int kRefineStarts = 5, kRefineRounds = 6, kRefineSteps = 16;
constexpr std::size_t kIncumbents = 5;
// Hyperparameters are fitted on at most this many of the conditioning points.
constexpr Eigen::Index kMaxFitPoints = 100;

bool failed(const Observation& o) { return is_failure(o.status); }

}  // namespace

BayesSampler::BayesSampler(SearchSpace space, SamplerOptions options)
    : space_(std::move(space)), options_(std::move(options)) {
  if (!options_.cost.empty() && options_.cost != "energy_j" && options_.cost != "co2_g") {
    throw ConfigError(fmt::format("unknown cost objective '{}': expected energy_j or co2_g", options_.cost));
  }
  initial_points_ =
      options_.initial_points > 0 ? options_.initial_points : std::max(5, 2 * static_cast<int>(space_.size()));
  for (const auto& p : space_.params()) encoded_dims_ += p.kind == ParamKind::kCategorical ? p.choices.size() : 1;
}

Eigen::VectorXd BayesSampler::encode(const std::vector<double>& u) const {
  Eigen::VectorXd x = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(encoded_dims_));
  Eigen::Index at = 0;
  for (std::size_t k = 0; k < space_.size(); ++k) {
    const auto& p = space_.params()[k];
    if (p.kind == ParamKind::kCategorical) {
      const auto n = p.choices.size();
      const auto i = std::min(static_cast<std::size_t>(std::clamp(u[k], 0.0, 1.0) * static_cast<double>(n)), n - 1);
      x[at + static_cast<Eigen::Index>(i)] = 1.0;
      at += static_cast<Eigen::Index>(n);
    } else {
      x[at++] = space_.to_unit(k, space_.from_unit(k, u[k]));  // snapped for ints
    }
  }
  return x;
}

std::vector<double> BayesSampler::to_units(const TrialSpec& spec) const {
  std::vector<double> u(space_.size(), 0.5);
  for (std::size_t k = 0; k < space_.size(); ++k) {
    for (const auto& p : spec.params) {
      if (p.name == space_.params()[k].name) u[k] = space_.to_unit(k, p.value);
    }
  }
  return u;
}

TrialSpec BayesSampler::decode(std::int64_t trial_id, const std::vector<double>& u) const {
  TrialSpec spec{trial_id, name(), {}};
  for (std::size_t k = 0; k < space_.size(); ++k)
    spec.params.push_back({space_.params()[k].name, space_.from_unit(k, u[k])});
  return spec;
}

std::vector<double> BayesSampler::latin_hypercube_point(std::int64_t index) const {
  // Dimension k places point i in stratum perm_k(i) of n, found by ranking seeded keys.
  const auto n = static_cast<std::uint64_t>(initial_points_);
  std::vector<double> u(space_.size());
  for (std::size_t k = 0; k < space_.size(); ++k) {
    const auto stream = kStreamLhs + 1000 * k;
    const double key = counter_uniform(options_.seed, stream, static_cast<std::uint64_t>(index));
    std::uint64_t rank = 0;
    for (std::uint64_t j = 0; j < n; ++j) rank += counter_uniform(options_.seed, stream, j) < key;
    const double jitter = counter_uniform(options_.seed, stream + 1, static_cast<std::uint64_t>(index));
    u[k] = (static_cast<double>(rank) + jitter) / static_cast<double>(n);
  }
  return u;
}

Eigen::VectorXd BayesSampler::targets(std::int64_t trial_id) const {
  const auto n = static_cast<Eigen::Index>(observed_.size());
  Eigen::VectorXd y(n);
  double worst = std::numeric_limits<double>::infinity();
  if (options_.cost.empty()) {
    for (Eigen::Index i = 0; i < n; ++i) {
      y[i] = observed_[static_cast<std::size_t>(i)].objective;
      if (!failed(observed_[static_cast<std::size_t>(i)])) worst = std::min(worst, y[i]);
    }
  } else {
    // ParEGO: a random weight per suggestion, augmented Chebyshev on normalised objectives.
    const double w = counter_uniform(options_.seed, kStreamParego, static_cast<std::uint64_t>(trial_id));
    double a_lo = 1e300, a_hi = -1e300, c_lo = 1e300, c_hi = -1e300;
    const auto cost_of = [&](const Observation& o) { return options_.cost == "co2_g" ? o.co2_g : o.energy_j; };
    for (const auto& o : observed_) {
      if (failed(o)) continue;
      a_lo = std::min(a_lo, o.objective), a_hi = std::max(a_hi, o.objective);
      c_lo = std::min(c_lo, cost_of(o)), c_hi = std::max(c_hi, cost_of(o));
    }
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto& o = observed_[static_cast<std::size_t>(i)];
      const double a = (o.objective - a_lo) / std::max(a_hi - a_lo, 1e-12);
      const double c = (cost_of(o) - c_lo) / std::max(c_hi - c_lo, 1e-12);
      const double f1 = w * (1.0 - a), f2 = (1.0 - w) * c;
      y[i] = -(std::max(f1, f2) + 0.05 * (f1 + f2));
      if (!failed(o)) worst = std::min(worst, y[i]);
    }
  }
  if (!std::isfinite(worst)) worst = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (failed(observed_[static_cast<std::size_t>(i)]) || !std::isfinite(y[i])) y[i] = worst;
  }
  return y;
}

void BayesSampler::observe(const Observation& o) {
  observed_u_.push_back(to_units(o.spec));
  observed_.push_back(o);
}

TrialSpec BayesSampler::design_point(std::int64_t trial_id) const {
  if (trial_id < initial_points_) return decode(trial_id, latin_hypercube_point(trial_id));
  std::vector<double> u(space_.size());
  for (std::size_t k = 0; k < u.size(); ++k)
    u[k] = counter_uniform(options_.seed, kStreamCandidates + k, static_cast<std::uint64_t>(trial_id));
  return decode(trial_id, u);
}

std::vector<std::size_t> BayesSampler::training_rows(const Eigen::VectorXd& all_y) const {
  std::vector<std::size_t> rows(observed_.size());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  if (rows.size() <= kMaxGpPoints) return rows;
  // Beyond kMaxGpPoints: the best third, and a seeded draw of the rest (subset of data).
  std::sort(rows.begin(), rows.end(),
            [&](auto a, auto b) { return all_y[static_cast<Eigen::Index>(a)] > all_y[static_cast<Eigen::Index>(b)]; });
  const std::size_t best = kMaxGpPoints / 3;
  std::vector<std::size_t> rest(rows.begin() + static_cast<std::ptrdiff_t>(best), rows.end());
  std::sort(rest.begin(), rest.end(), [&](auto a, auto b) {
    return counter_uniform(options_.seed, kStreamSubset + observed_.size(), a) <
           counter_uniform(options_.seed, kStreamSubset + observed_.size(), b);
  });
  rows.resize(best);
  rows.insert(rows.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(kMaxGpPoints - best));
  return rows;
}

bool BayesSampler::fit_model(std::int64_t trial_id, const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  // Hyperparameters are refitted while data are few, then whenever the data grew by 10%;
  // ParEGO's targets change with every weight, so it always refits.
  const bool refit = !gp_.fitted() || observed_.size() < 60 || !options_.cost.empty() ||
                     static_cast<double>(observed_.size()) >= 1.1 * static_cast<double>(fitted_at_);
  if (!refit) return false;
  const auto seed = options_.seed + static_cast<std::uint64_t>(trial_id);
  const Eigen::Index n = x.rows(), d = x.cols();
  if (n > kMaxFitPoints) {
    // Every k-th row of the (best third, then random) selection: a mixed subset.
    const Eigen::Index step = (n + kMaxFitPoints - 1) / kMaxFitPoints;
    Eigen::MatrixXd xf(0, d);
    Eigen::VectorXd yf(0);
    for (Eigen::Index i = 0; i < n; i += step) {
      xf.conservativeResize(xf.rows() + 1, d);
      yf.conservativeResize(yf.size() + 1);
      xf.row(xf.rows() - 1) = x.row(i);
      yf[yf.size() - 1] = y[i];
    }
    gp_.fit(xf, yf, seed, 2, 30);
    gp_.condition(x, y);
  } else {
    gp_.fit(x, y, seed, 2, observed_.size() < 60 ? 50 : 30);
  }
  fitted_at_ = observed_.size();
  return true;
}

std::vector<Eigen::VectorXd> BayesSampler::condition_on_pending(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                                                std::span<const TrialSpec> pending, bool refitted) {
  // Constant liar: each pending trial is assumed to return the worst value seen.
  std::vector<Eigen::VectorXd> taken;
  for (const auto& u : observed_u_) taken.push_back(encode(u));
  const Eigen::Index n = x.rows();
  if (!pending.empty()) {
    Eigen::MatrixXd xp(n + static_cast<Eigen::Index>(pending.size()), x.cols());
    Eigen::VectorXd yp(xp.rows());
    xp.topRows(n) = x;
    yp.head(n) = y;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const auto e = encode(to_units(pending[i]));
      xp.row(n + static_cast<Eigen::Index>(i)) = e.transpose();
      yp[n + static_cast<Eigen::Index>(i)] = y.minCoeff();
      taken.push_back(e);
    }
    gp_.condition(xp, yp);
  } else if (!refitted) {
    gp_.condition(x, y);
  }
  return taken;
}

double log_expected_improvement_unit(double z) {
  // log(phi(z) + z Phi(z)): direct where it does not underflow; below z = -5, with t = -z, as
  // log phi(z) + log(1 - t R(t)) where Mills' ratio R(t) = 1 / (t + c) and
  // c = 1 / (t + 2 / (t + 3 / ...)), so that 1 - t R(t) = c / (t + c) has no cancellation.
  const boost::math::normal normal;
  if (z > -5.0) return std::log(boost::math::pdf(normal, z) + z * boost::math::cdf(normal, z));
  const double t = -z;
  double c = 0.0;
  for (int k = 100; k >= 1; --k) c = k / (t + c);
  return -0.5 * t * t - 0.5 * std::log(2.0 * std::numbers::pi) + std::log(c / (t + c));
}

Eigen::VectorXd BayesSampler::acquisition(const Eigen::MatrixXd& cand, double best_y) const {
  const boost::math::normal normal;
  Eigen::VectorXd mean, sd;
  gp_.predict(cand, mean, sd);
  Eigen::VectorXd a(cand.rows());
  for (Eigen::Index i = 0; i < cand.rows(); ++i) {
    const double z = (mean[i] - best_y - 0.01 * sd[i]) / sd[i];
    if (options_.acquisition == Acquisition::kUcb)
      a[i] = mean[i] + options_.ucb_beta * sd[i];
    else if (options_.acquisition == Acquisition::kPi)
      a[i] = boost::math::cdf(normal, z);
    else  // log EI (Ament et al. 2023): ranks candidates where EI itself underflows to 0
      a[i] = std::log(sd[i]) + log_expected_improvement_unit(z);
  }
  return a;
}

double BayesSampler::normal_draw(std::uint64_t stream, std::uint64_t index) const {
  // Box-Muller from two counter-based uniforms of this sampler's seed.
  const double u1 = std::max(counter_uniform(options_.seed, stream, index), 1e-300);
  const double u2 = counter_uniform(options_.seed, stream + 1, index);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void BayesSampler::score(Candidates& c, std::size_t from, double best_y) const {
  Eigen::MatrixXd cx(static_cast<Eigen::Index>(c.units.size() - from), static_cast<Eigen::Index>(encoded_dims_));
  for (std::size_t i = from; i < c.units.size(); ++i)
    cx.row(static_cast<Eigen::Index>(i - from)) = encode(c.units[i]).transpose();
  const Eigen::VectorXd a = acquisition(cx, best_y);
  c.score.conservativeResize(static_cast<Eigen::Index>(c.units.size()));
  c.score.tail(a.size()) = a;
}

BayesSampler::Candidates BayesSampler::random_candidates(std::int64_t trial_id, Eigen::Index n, double best_y,
                                                         const std::vector<std::size_t>& incumbents) const {
  // Uniform points for exploration, and Gaussian steps of scales from 0.005 to 0.2 around the
  // best observations for exploitation (as trust-region and CMA-style searches do).
  const auto p = space_.size();
  const auto seed_index = static_cast<std::uint64_t>(trial_id) * 1'000'003ULL;
  Candidates c;
  const int count = n <= kSmallHistory ? kCandidatesSmall : kCandidatesLarge;
  for (int i = 0; i < count; ++i) {
    std::vector<double> u(p);
    for (std::size_t k = 0; k < p; ++k)
      u[k] = counter_uniform(options_.seed, kStreamCandidates + k, seed_index + static_cast<std::uint64_t>(i));
    c.units.push_back(std::move(u));
  }
  const int local = count / 4;
  for (int i = 0; i < local && !incumbents.empty(); ++i) {
    const auto index = seed_index + static_cast<std::uint64_t>(i);
    std::vector<double> u = observed_u_[incumbents[static_cast<std::size_t>(i) % incumbents.size()]];
    const double scale = 0.005 * std::pow(40.0, counter_uniform(options_.seed, kStreamLocal, index));
    for (std::size_t k = 0; k < p; ++k) {
      u[k] = std::clamp(u[k] + scale * normal_draw(kStreamLocal + 2 + 2 * k, index), 0.0, 1.0 - 1e-12);
    }
    c.units.push_back(std::move(u));
  }
  score(c, 0, best_y);
  return c;
}

void BayesSampler::refine(std::int64_t trial_id, double best_y, Candidates& c) const {
  // Local refinement of the best few: rounds of Gaussian steps around the current point, moving
  // to the best step and halving the step when a round finds nothing better.
  const auto p = space_.size();
  const auto seed_index = static_cast<std::uint64_t>(trial_id) * 1'000'003ULL;
  std::vector<std::size_t> order(c.units.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto starts = std::min<std::size_t>(kRefineStarts, order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(starts), order.end(),
      [&](auto a, auto b) { return c.score[static_cast<Eigen::Index>(a)] > c.score[static_cast<Eigen::Index>(b)]; });
  for (std::size_t s = 0; s < starts; ++s) {
    std::vector<double> best_u = c.units[order[s]];
    double best_score = c.score[static_cast<Eigen::Index>(order[s])];
    double radius = 0.05;
    for (int round = 0; round < kRefineRounds; ++round) {
      Candidates steps;
      for (int step = 0; step < kRefineSteps; ++step) {
        const auto index =
            seed_index + 100'000u * s + 1'000u * static_cast<std::uint64_t>(round) + static_cast<std::uint64_t>(step);
        std::vector<double> u = best_u;
        for (std::size_t k = 0; k < p; ++k)
          u[k] = std::clamp(u[k] + radius * normal_draw(kStreamRefine + 2 * k, index), 0.0, 1.0 - 1e-12);
        steps.units.push_back(std::move(u));
      }
      score(steps, 0, best_y);
      Eigen::Index top = 0;
      if (steps.score.maxCoeff(&top) > best_score) {
        best_score = steps.score[top];
        best_u = steps.units[static_cast<std::size_t>(top)];
      } else {
        radius /= 2;
      }
    }
    c.units.push_back(best_u);
    c.score.conservativeResize(c.score.size() + 1);
    c.score[c.score.size() - 1] = best_score;
  }
}

TrialSpec BayesSampler::best_distinct(std::int64_t trial_id, const Candidates& c,
                                      const std::vector<Eigen::VectorXd>& taken) const {
  // The best candidate that is not already observed or pending (distinct suggestions).
  std::vector<std::size_t> ranked(c.units.size());
  std::iota(ranked.begin(), ranked.end(), std::size_t{0});
  std::sort(ranked.begin(), ranked.end(), [&](auto a, auto b) {
    return c.score[static_cast<Eigen::Index>(a)] > c.score[static_cast<Eigen::Index>(b)];
  });
  for (auto i : ranked) {
    const Eigen::VectorXd e = encode(c.units[i]);
    const bool duplicate =
        std::any_of(taken.begin(), taken.end(), [&](const auto& t) { return (t - e).norm() < 1e-9; });
    if (!duplicate) return decode(trial_id, c.units[i]);
  }
  return decode(trial_id, c.units[ranked.front()]);
}

std::optional<TrialSpec> BayesSampler::suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) {
  const auto usable = std::count_if(observed_.begin(), observed_.end(), [](const auto& o) { return !failed(o); });
  if (trial_id < initial_points_ || usable < 2) return design_point(trial_id);
  const Eigen::VectorXd all_y = targets(trial_id);
  const auto rows = training_rows(all_y);
  const auto n = static_cast<Eigen::Index>(rows.size());
  Eigen::MatrixXd x(n, static_cast<Eigen::Index>(encoded_dims_));
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    x.row(i) = encode(observed_u_[rows[static_cast<std::size_t>(i)]]).transpose();
    y[i] = all_y[static_cast<Eigen::Index>(rows[static_cast<std::size_t>(i)])];
  }
  y = PowerWarp::fit(y)(y);
  const bool refitted = fit_model(trial_id, x, y);
  const double best_y = y.maxCoeff();
  const auto taken = condition_on_pending(x, y, pending, refitted);
  // The best few observations (all_y is ordered as the warped y) seed the local candidates.
  std::vector<std::size_t> incumbents(observed_.size());
  std::iota(incumbents.begin(), incumbents.end(), std::size_t{0});
  const auto top = std::min<std::size_t>(kIncumbents, incumbents.size());
  std::partial_sort(
      incumbents.begin(), incumbents.begin() + static_cast<std::ptrdiff_t>(top), incumbents.end(),
      [&](auto a, auto b) { return all_y[static_cast<Eigen::Index>(a)] > all_y[static_cast<Eigen::Index>(b)]; });
  incumbents.resize(top);
  auto candidates = random_candidates(trial_id, n, best_y, incumbents);
  refine(trial_id, best_y, candidates);
  return best_distinct(trial_id, candidates, taken);
}

}  // namespace cs::search
