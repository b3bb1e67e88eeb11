// Bayesian optimisation: a GP over the encoded space on power-warped outputs (of two warps and
// two kernels, those the data make likelier), a Latin-hypercube start, log-EI/PI/UCB,
// constant-liar points for pending trials, batches of suggestions per GP fit when many trials
// run at once, and ParEGO scalarisation for accuracy vs cost.
#pragma once

#include <deque>
#include <set>
#include <vector>

#include "search/gaussian_process.hpp"
#include "search/power_warp.hpp"
#include "search/sampler.hpp"

namespace cs::search {

/// log(phi(z) + z Phi(z)): the log of the expected improvement of a unit Gaussian, finite where
/// the improvement itself underflows (z far below 0).
double log_expected_improvement_unit(double z);

class BayesSampler final : public Sampler {
 public:
  BayesSampler(SearchSpace space, SamplerOptions options);
  std::string name() const override { return options_.name.empty() ? "bayes" : options_.name; }
  std::optional<TrialSpec> suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) override;
  void observe(const Observation& observation) override;

  /// At most this many observations condition the GP; beyond it, the best third and a
  /// seeded draw of the rest (subset of data), so that suggestion time stays flat.
  static constexpr std::size_t kMaxGpPoints = 300;

  /// The GP features of a point given in per-parameter unit coordinates: numeric
  /// parameters as their (snapped) unit value, categoricals one-hot.
  Eigen::VectorXd encode(const std::vector<double>& u) const;

 private:
  std::vector<double> to_units(const TrialSpec& spec) const;
  TrialSpec decode(std::int64_t trial_id, const std::vector<double>& u) const;
  std::vector<double> latin_hypercube_point(std::int64_t index) const;
  Eigen::VectorXd targets(std::int64_t trial_id) const;

  /// Candidate points in unit coordinates and their acquisition values.
  struct Candidates {
    std::vector<std::vector<double>> units;
    Eigen::VectorXd score;
  };
  /// One suggestion, step by step: the space-filling design (before the GP has data), the GP's
  /// training rows, its fit, the constant liar for pending trials, random candidates, their
  /// local refinement, and the best one not already observed or pending.
  TrialSpec design_point(std::int64_t trial_id) const;
  std::vector<std::size_t> training_rows(const Eigen::VectorXd& all_y) const;
  /// Refits the hyperparameters when due, under each output warp and each kernel, keeping the
  /// likelier; `y` is not warped. False when it only kept the previous fit.
  bool fit_model(std::int64_t trial_id, const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  std::vector<Eigen::VectorXd> condition_on_pending(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                                    std::span<const TrialSpec> pending, bool refitted);
  Eigen::VectorXd acquisition(const Eigen::MatrixXd& candidates, double best_y) const;
  Eigen::VectorXd acquisition_from(const Eigen::VectorXd& mean, const Eigen::VectorXd& sd, double best_y) const;
  Candidates random_candidates(std::int64_t trial_id, Eigen::Index n, double best_y,
                               const std::vector<std::size_t>& incumbents) const;
  /// Sets the candidates' acquisition values.
  void score(Candidates& candidates, double best_y) const;
  void refine(std::int64_t trial_id, double best_y, Candidates& candidates) const;
  /// A point's encoding, exactly: observed and suggested points are kept in sets of these.
  using Key = std::vector<double>;
  Key key(const std::vector<double>& u) const;
  bool is_taken(const Key& k) const;
  TrialSpec remember(TrialSpec spec);
  std::vector<std::vector<double>> pick_batch(const Candidates& candidates, const std::vector<Eigen::VectorXd>& liars,
                                              std::size_t size, double best_y, double lie_y) const;
  std::optional<TrialSpec> take_prepared(std::int64_t trial_id);

  SearchSpace space_;
  SamplerOptions options_;
  int initial_points_;
  std::size_t encoded_dims_ = 0;
  std::vector<std::vector<double>> observed_u_;
  std::vector<Observation> observed_;
  std::set<Key> observed_keys_, suggested_keys_;
  std::deque<std::vector<double>> prepared_;  ///< the rest of the last batch, in order
  std::size_t prepared_at_ = 0, prepared_size_ = 0;
  GaussianProcess gp_;
  GaussianProcess rival_;      ///< the other kernel's last fit, challenging gp_'s at each refit
  std::size_t fitted_at_ = 0;  ///< number of observations at the last hyperparameter fit
  /// The output warp chosen at the last hyperparameter fit (its exponent is refitted each time).
  PowerWarp::Family warp_family_ = PowerWarp::Family::kYeoJohnson;
};

}  // namespace cs::search
