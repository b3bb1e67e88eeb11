// Bayesian optimisation over the encoded search space.
#include "search/bayes_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <boost/math/distributions/normal.hpp>

#include "base/error.hpp"

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
// The additive candidates: grid values per input, the most combinations of each input's best
// local maxima, and the upper confidence bound's width in standard deviations.
constexpr int kPartGrid = 256;
constexpr std::size_t kPartCombinations = 125;
constexpr double kPartUcbWidth = 2.0;
constexpr std::uint64_t kStreamLiars = 0x6c696172;
// A batch is picked from this many of the best candidates.
constexpr std::size_t kShortlist = 256;
// How much likelier (log Bayes factor) the data must be under another output warp or kernel for
// BO to switch to it: "very strong" evidence on Kass and Raftery's (1995) scale, 2 ln B > 10.
constexpr double kModelMargin = 5.0;
// Hyperparameters are fitted on at most this many of the conditioning points.
constexpr Eigen::Index kMaxFitPoints = 100;

bool failed(const Observation& o) { return is_failure(o.status); }

}  // namespace

BayesSampler::BayesSampler(SearchSpace space, SamplerOptions options)
    : space_(std::move(space)), options_(std::move(options)) {
  rival_.set_kernel(GaussianProcess::Kernel::kAdditive);
  if (!options_.cost.empty() && options_.cost != "energy_j" && options_.cost != "co2_g") {
    throw ConfigError(fmt::format("unknown cost objective '{}': expected energy_j or co2_g", options_.cost));
  }
  initial_points_ =
      options_.initial_points > 0 ? options_.initial_points : std::max(5, 2 * static_cast<int>(space_.size()));
  for (const auto& p : space_.params()) encoded_dims_ += p.kind == ParamKind::kCategorical ? p.choices.size() : 1;
}

BayesSampler::~BayesSampler() {
  if (!ahead_) return;
  try {
    options_.ahead->wait();
  } catch (...) {  // the batch is dropped with the sampler, and its error with it
  }
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
  usable_ += !failed(o);
  const Key k = key(observed_u_.back());
  const std::lock_guard lock(keys_mutex_);
  suggested_keys_.erase(k);
  observed_keys_.insert(k);
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
  // Beyond kMaxGpPoints: the best third, and a seeded draw of the rest (subset of data), in
  // O(n): a partition for the best, then seeded indices into the rest, without repeats.
  const std::size_t best = kMaxGpPoints / 3;
  std::nth_element(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(best), rows.end(), [&](auto a, auto b) {
    return all_y[static_cast<Eigen::Index>(a)] > all_y[static_cast<Eigen::Index>(b)];
  });
  const std::size_t rest = rows.size() - best;
  std::vector<bool> drawn(rest, false);
  std::vector<std::size_t> chosen(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(best));
  for (std::uint64_t draw = 0; chosen.size() < kMaxGpPoints; ++draw) {
    const double u = counter_uniform(options_.seed, kStreamSubset + observed_.size(), draw);
    const auto i = std::min(static_cast<std::size_t>(u * static_cast<double>(rest)), rest - 1);
    if (drawn[i]) continue;
    drawn[i] = true;
    chosen.push_back(rows[best + i]);
  }
  return chosen;
}

BayesSampler::BatchJob BayesSampler::snapshot(std::int64_t trial_id, std::span<const TrialSpec> pending) {
  BatchJob job;
  job.trial_id = trial_id;
  job.observations = observed_.size();
  // Hyperparameters are refitted while data are few, then whenever the data grew by 10%;
  // ParEGO's targets change with every weight, so it always refits.
  job.refit = !gp_.fitted() || observed_.size() < 60 || !options_.cost.empty() ||
              static_cast<double>(observed_.size()) >= 1.1 * static_cast<double>(fitted_at_);
  const Eigen::VectorXd all_y = targets(trial_id);
  const auto rows = training_rows(all_y);
  const auto n = static_cast<Eigen::Index>(rows.size());
  job.x.resize(n, static_cast<Eigen::Index>(encoded_dims_));
  job.y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    job.x.row(i) = encode(observed_u_[rows[static_cast<std::size_t>(i)]]).transpose();
    job.y[i] = all_y[static_cast<Eigen::Index>(rows[static_cast<std::size_t>(i)])];
  }
  // Constant liar: pending trials are assumed to return the worst value seen. At most
  // max_liars of them (64), a seeded draw, so that a suggestion costs the same with 10,000 trials
  // running as with 64; the suggestions already made are kept apart by is_taken.
  std::vector<std::size_t> picked(pending.size());
  std::iota(picked.begin(), picked.end(), std::size_t{0});
  if (picked.size() > options_.max_liars) {
    for (std::size_t i = 0; i < options_.max_liars; ++i) {
      const double u = counter_uniform(options_.seed, kStreamLiars + observed_.size(), i);
      std::swap(picked[i], picked[i + static_cast<std::size_t>(u * static_cast<double>(picked.size() - i))]);
    }
    picked.resize(options_.max_liars);
  }
  for (const auto i : picked) job.liars.push_back(encode(to_units(pending[i])));
  // The best few observations seed the local candidates.
  std::vector<std::size_t> incumbents(observed_.size());
  std::iota(incumbents.begin(), incumbents.end(), std::size_t{0});
  const auto top = std::min<std::size_t>(kIncumbents, incumbents.size());
  std::partial_sort(
      incumbents.begin(), incumbents.begin() + static_cast<std::ptrdiff_t>(top), incumbents.end(),
      [&](auto a, auto b) { return all_y[static_cast<Eigen::Index>(a)] > all_y[static_cast<Eigen::Index>(b)]; });
  for (std::size_t i = 0; i < top; ++i) job.incumbents.push_back(observed_u_[incumbents[i]]);
  // One GP fit serves a batch when many trials run at once: a point per 16 pending, at most
  // max_batch (64); beyond 64 x 64 pending, a point per 64, up to half the shortlist, so that a
  // burst of thousands of requests waits for fewer fits.
  const std::size_t cap =
      options_.max_batch > 1 ? std::max(options_.max_batch, std::min(kShortlist / 2, pending.size() / 64)) : 1;
  job.size = std::clamp<std::size_t>(pending.size() / 16, 1, cap);
  job.gp = std::move(gp_);
  job.rival = std::move(rival_);
  job.family = warp_family_;
  return job;
}

void BayesSampler::fit_model(BatchJob& job) const {
  const auto seed = options_.seed + static_cast<std::uint64_t>(job.trial_id);
  const Eigen::MatrixXd& x = job.x;
  const Eigen::VectorXd& y = job.y;
  const Eigen::Index n = x.rows(), d = x.cols();
  // Beyond kMaxFitPoints, every k-th row of the (best third, then random) selection: a mixed
  // subset for the hyperparameters, then conditioning on all.
  const Eigen::Index step = (n + kMaxFitPoints - 1) / kMaxFitPoints;
  const Eigen::Index fit_rows = (n + step - 1) / step;
  Eigen::MatrixXd xf(fit_rows, d);
  Eigen::VectorXd yf(fit_rows);
  for (Eigen::Index i = 0; i < fit_rows; ++i) xf.row(i) = x.row(i * step), yf[i] = y[i * step];
  const int iterations = job.observations < 60 ? 50 : 30;
  // The output warp: a GP under each, from the last fit; the gap warp is kept only when the
  // data are likelier under it by kModelMargin (at no margin it was also chosen on Levy, where
  // its sharper focus on the best point left more runs in a local minimum).
  std::optional<GaussianProcess> best;
  double best_evidence = -std::numeric_limits<double>::infinity();
  for (const auto family : {PowerWarp::Family::kYeoJohnson, PowerWarp::Family::kGapToBest}) {
    const auto warp = PowerWarp::fit(y, family);
    GaussianProcess gp = job.gp;
    gp.fit(xf, warp(yf), seed, 2, iterations);
    const double evidence = gp.log_evidence() + warp.log_jacobian(yf);
    const double margin = family == PowerWarp::Family::kGapToBest ? kModelMargin : 0.0;
    if (!best || evidence - margin > best_evidence) best = std::move(gp), best_evidence = evidence, job.family = family;
  }
  job.gp = std::move(*best);
  // The kernel: the other one (product or additive), refitted from its own last fit, takes over
  // when the data are likelier under it by kModelMargin; the loser is the next fit's rival.
  GaussianProcess rival = std::move(job.rival);
  rival.fit(xf, PowerWarp::fit(y, job.family)(yf), seed, 2, iterations);
  if (rival.log_evidence() > job.gp.log_evidence() + kModelMargin) std::swap(job.gp, rival);
  job.rival = std::move(rival);
  if (step > 1) job.gp.condition(x, PowerWarp::fit(y, job.family)(y));
}

void BayesSampler::compute(BatchJob& job) const {
  if (job.refit) fit_model(job);
  const Eigen::VectorXd y = PowerWarp::fit(job.y, job.family)(job.y);
  const double best_y = y.maxCoeff();
  const Eigen::Index n = job.x.rows();
  if (!job.liars.empty()) {
    Eigen::MatrixXd xp(n + static_cast<Eigen::Index>(job.liars.size()), job.x.cols());
    Eigen::VectorXd yp(xp.rows());
    xp.topRows(n) = job.x;
    yp.head(n) = y;
    for (std::size_t i = 0; i < job.liars.size(); ++i) {
      xp.row(n + static_cast<Eigen::Index>(i)) = job.liars[i].transpose();
      yp[n + static_cast<Eigen::Index>(i)] = y.minCoeff();
    }
    job.gp.condition(xp, yp);
  } else if (!job.refit) {
    job.gp.condition(job.x, y);
  }
  auto candidates = random_candidates(job, best_y);
  refine(job, best_y, candidates);
  job.batch = pick_batch(job, candidates, best_y, y.minCoeff());
}

void BayesSampler::apply(BatchJob job) {
  gp_ = std::move(job.gp);
  rival_ = std::move(job.rival);
  warp_family_ = job.family;
  if (job.refit) fitted_at_ = job.observations;
  prepared_.assign(std::make_move_iterator(job.batch.begin()), std::make_move_iterator(job.batch.end()));
  prepared_at_ = job.observations;
  prepared_size_ = job.batch.size();
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

Eigen::VectorXd BayesSampler::acquisition(const GaussianProcess& gp, const Eigen::MatrixXd& cand, double best_y) const {
  Eigen::VectorXd mean, sd;
  gp.predict(cand, mean, sd);
  return acquisition_from(mean, sd, best_y);
}

Eigen::VectorXd BayesSampler::acquisition_from(const Eigen::VectorXd& mean, const Eigen::VectorXd& sd,
                                               double best_y) const {
  const boost::math::normal normal;
  Eigen::VectorXd a(mean.size());
  for (Eigen::Index i = 0; i < mean.size(); ++i) {
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

void BayesSampler::score(const GaussianProcess& gp, Candidates& c, double best_y) const {
  Eigen::MatrixXd cx(static_cast<Eigen::Index>(c.units.size()), static_cast<Eigen::Index>(encoded_dims_));
  for (std::size_t i = 0; i < c.units.size(); ++i)
    cx.row(static_cast<Eigen::Index>(i)) = encode(c.units[i]).transpose();
  c.score = acquisition(gp, cx, best_y);
}

BayesSampler::Candidates BayesSampler::random_candidates(const BatchJob& job, double best_y) const {
  // Uniform points for exploration, and Gaussian steps of scales from 0.005 to 0.2 around the
  // best observations for exploitation (as trust-region and CMA-style searches do).
  const auto p = space_.size();
  const auto seed_index = static_cast<std::uint64_t>(job.trial_id) * 1'000'003ULL;
  Candidates c;
  const int count = job.x.rows() <= kSmallHistory ? kCandidatesSmall : kCandidatesLarge;
  for (int i = 0; i < count; ++i) {
    std::vector<double> u(p);
    for (std::size_t k = 0; k < p; ++k)
      u[k] = counter_uniform(options_.seed, kStreamCandidates + k, seed_index + static_cast<std::uint64_t>(i));
    c.units.push_back(std::move(u));
  }
  const int local = count / 4;
  for (int i = 0; i < local && !job.incumbents.empty(); ++i) {
    const auto index = seed_index + static_cast<std::uint64_t>(i);
    std::vector<double> u = job.incumbents[static_cast<std::size_t>(i) % job.incumbents.size()];
    const double scale = 0.005 * std::pow(40.0, counter_uniform(options_.seed, kStreamLocal, index));
    for (std::size_t k = 0; k < p; ++k) {
      u[k] =
          std::clamp(u[k] + scale * counter_normal(options_.seed, kStreamLocal + 2 + 2 * k, index), 0.0, 1.0 - 1e-12);
    }
    c.units.push_back(std::move(u));
  }
  additive_candidates(job, c);
  score(job.gp, c, best_y);
  return c;
}

void BayesSampler::additive_candidates(const BatchJob& job, Candidates& c) const {
  // Add-GP-UCB (Kandasamy et al. 2015): the additive model's parts are one-dimensional, so each
  // input's best values under its part's upper confidence bound are found on a grid, exactly;
  // the combinations of each input's few best local maxima compete with the other candidates
  // under the acquisition. Random and local candidates rarely line up every input at once on a
  // function of many bumps per axis (Rastrigin).
  const auto p = space_.size();
  if (job.gp.kernel_kind() != GaussianProcess::Kernel::kAdditive || encoded_dims_ != p || job.x.rows() > kSmallHistory)
    return;
  const Eigen::VectorXd grid = (Eigen::VectorXd::LinSpaced(kPartGrid, 0, kPartGrid - 1).array() + 0.5) / kPartGrid;
  // The most maxima per input whose combinations number at most kPartCombinations.
  std::size_t per_input = 1;
  const auto combinations = [p](std::size_t per) {
    std::size_t n = 1;
    for (std::size_t k = 0; k < p && n <= kPartCombinations; ++k) n *= per;
    return n;
  };
  while (combinations(per_input + 1) <= kPartCombinations) ++per_input;
  std::vector<std::vector<double>> best(p);
  for (std::size_t k = 0; k < p; ++k) {
    Eigen::VectorXd mean, sd;
    job.gp.part_posterior(static_cast<Eigen::Index>(k), grid, mean, sd);
    const Eigen::VectorXd ucb = mean + kPartUcbWidth * sd;
    std::vector<Eigen::Index> peaks;
    for (Eigen::Index i = 0; i < grid.size(); ++i) {
      if ((i == 0 || ucb[i] >= ucb[i - 1]) && (i + 1 == grid.size() || ucb[i] > ucb[i + 1])) peaks.push_back(i);
    }
    const auto keep = std::min(per_input, peaks.size());
    std::partial_sort(peaks.begin(), peaks.begin() + static_cast<std::ptrdiff_t>(keep), peaks.end(),
                      [&](auto a, auto b) { return ucb[a] > ucb[b]; });
    for (std::size_t i = 0; i < keep; ++i) best[k].push_back(grid[peaks[i]]);
  }
  // Every combination, the first value of each input varying slowest.
  std::size_t total = 1;
  for (const auto& values : best) total *= values.size();
  for (std::size_t index = 0; index < total; ++index) {
    std::vector<double> u(p);
    std::size_t rest = index;
    for (std::size_t k = p; k-- > 0;) {
      u[k] = best[k][rest % best[k].size()];
      rest /= best[k].size();
    }
    c.units.push_back(std::move(u));
  }
}

void BayesSampler::refine(const BatchJob& job, double best_y, Candidates& c) const {
  // Local refinement of the best few: rounds of Gaussian steps around the current point, moving
  // to the best step and halving the step when a round finds nothing better.
  const auto p = space_.size();
  const auto seed_index = static_cast<std::uint64_t>(job.trial_id) * 1'000'003ULL;
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
          u[k] =
              std::clamp(u[k] + radius * counter_normal(options_.seed, kStreamRefine + 2 * k, index), 0.0, 1.0 - 1e-12);
        steps.units.push_back(std::move(u));
      }
      score(job.gp, steps, best_y);
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

BayesSampler::Key BayesSampler::key(const std::vector<double>& u) const {
  const Eigen::VectorXd e = encode(u);
  return Key(e.data(), e.data() + e.size());
}

bool BayesSampler::is_taken(const Key& k) const {
  const std::lock_guard lock(keys_mutex_);
  return observed_keys_.contains(k) || suggested_keys_.contains(k);
}

TrialSpec BayesSampler::remember(TrialSpec spec) {
  Key k = key(to_units(spec));
  const std::lock_guard lock(keys_mutex_);
  suggested_keys_.insert(std::move(k));
  return spec;
}

std::vector<std::vector<double>> BayesSampler::pick_batch(const BatchJob& job, const Candidates& c, double best_y,
                                                          double lie_y) const {
  // A shortlist of the best candidates by acquisition that are not observed, pending or already
  // suggested; then constant liar within the batch: each pick is conditioned on as returning
  // lie_y by a rank-one update of the shortlist's joint posterior, and the acquisition
  // recomputed, so that one GP fit gives `size` spread-out suggestions.
  std::vector<std::size_t> ranked(c.units.size());
  std::iota(ranked.begin(), ranked.end(), std::size_t{0});
  std::sort(ranked.begin(), ranked.end(), [&](auto a, auto b) {
    return c.score[static_cast<Eigen::Index>(a)] > c.score[static_cast<Eigen::Index>(b)];
  });
  const auto size = job.size;
  const auto& liars = job.liars;
  std::vector<std::size_t> shortlist;
  for (const auto i : ranked) {
    if (shortlist.size() == (size == 1 ? 1 : kShortlist)) break;
    const Eigen::VectorXd e = encode(c.units[i]);
    const Key k(e.data(), e.data() + e.size());
    if (is_taken(k) || std::any_of(liars.begin(), liars.end(), [&](const auto& l) { return (l - e).norm() < 1e-9; }))
      continue;
    shortlist.push_back(i);
  }
  if (shortlist.empty()) return {c.units[ranked.front()]};  // a discrete space with every point taken
  if (size == 1) return {c.units[shortlist.front()]};
  const auto m = static_cast<Eigen::Index>(shortlist.size());
  Eigen::MatrixXd xs(m, static_cast<Eigen::Index>(encoded_dims_));
  for (Eigen::Index i = 0; i < m; ++i) xs.row(i) = encode(c.units[shortlist[static_cast<std::size_t>(i)]]).transpose();
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  job.gp.posterior(xs, mean, cov);
  const double noise = job.gp.noise_variance();
  std::vector<std::vector<double>> batch;
  std::vector<bool> chosen(shortlist.size(), false);
  while (batch.size() < std::min<std::size_t>(size, shortlist.size())) {
    const Eigen::VectorXd sd = cov.diagonal().cwiseMax(1e-24).cwiseSqrt();
    const Eigen::VectorXd a = acquisition_from(mean, sd, best_y);
    Eigen::Index best = -1;
    for (Eigen::Index i = 0; i < m; ++i) {
      if (!chosen[static_cast<std::size_t>(i)] && (best < 0 || a[i] > a[best])) best = i;
    }
    chosen[static_cast<std::size_t>(best)] = true;
    batch.push_back(c.units[shortlist[static_cast<std::size_t>(best)]]);
    const double denominator = cov(best, best) + noise;
    const Eigen::VectorXd column = cov.col(best);
    mean += column * ((lie_y - mean[best]) / denominator);
    cov -= column * column.transpose() / denominator;
  }
  return batch;
}

std::optional<TrialSpec> BayesSampler::take_prepared(std::int64_t trial_id) {
  // Prepared suggestions serve until as many new observations arrived as the batch had points.
  if (observed_.size() >= prepared_at_ + prepared_size_) prepared_.clear();
  while (!prepared_.empty()) {
    const auto u = std::move(prepared_.front());
    prepared_.pop_front();
    if (!is_taken(key(u))) return remember(decode(trial_id, u));
  }
  return std::nullopt;
}

void BayesSampler::prepare_next(std::int64_t trial_id, std::span<const TrialSpec> pending) {
  // Begun once half the current batch is served or half its observations have come, so that it
  // is ready when the batch runs out. Batches of one (a few trials running) prepare nothing:
  // each suggestion should see the result before it.
  if (!options_.ahead || ahead_ || prepared_size_ < 2) return;
  const bool half_served = 2 * prepared_.size() <= prepared_size_;
  if (!half_served && 2 * (observed_.size() - prepared_at_) < prepared_size_) return;
  ahead_ = snapshot(trial_id + 1, pending);
  options_.ahead->start([this] { compute(*ahead_); });
}

std::optional<TrialSpec> BayesSampler::suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) {
  if (trial_id < initial_points_ || usable_ < 2) return remember(design_point(trial_id));
  auto spec = take_prepared(trial_id);
  if (!spec && ahead_) {
    // The current batch is used up: the one prepared ahead takes over unless more results came
    // since its snapshot than it has points, and then serves for as many results as it has
    // points (counted from now: counted from its snapshot, it served half as many, and BO
    // fitted twice as often; bench/bo_scale.sh).
    options_.ahead->wait();
    const bool fresh = observed_.size() < ahead_->observations + ahead_->batch.size();
    apply(std::move(*ahead_));
    ahead_.reset();
    if (fresh) prepared_at_ = observed_.size();
    spec = take_prepared(trial_id);
  }
  if (!spec) {
    BatchJob job = snapshot(trial_id, pending);
    compute(job);
    const auto first = job.batch.front();
    apply(std::move(job));
    spec = take_prepared(trial_id);
    if (!spec) spec = remember(decode(trial_id, first));  // every point of a discrete space taken: a repeat
  }
  prepare_next(trial_id, pending);
  return spec;
}

}  // namespace cs::search
