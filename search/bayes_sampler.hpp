// Bayesian optimisation: a GP over the encoded space on power-warped outputs (of two warps and
// two kernels, those the data make likelier), a Latin-hypercube start, log-EI/PI/UCB,
// constant-liar points for pending trials, batches of suggestions per GP fit when many trials
// run at once (the next batch prepared on a thread of its own while the current one serves),
// and ParEGO scalarisation for accuracy vs cost.
#pragma once

#include <deque>
#include <mutex>
#include <set>
#include <vector>

#include "search/gaussian_process.hpp"
#include "search/power_warp.hpp"
#include "search/prepare_ahead.hpp"
#include "search/sampler.hpp"

namespace cs::search {

/// log(phi(z) + z Phi(z)): the log of the expected improvement of a unit Gaussian, finite where
/// the improvement itself underflows (z far below 0).
double log_expected_improvement_unit(double z);

class BayesSampler final : public Sampler {
 public:
  BayesSampler(SearchSpace space, SamplerOptions options);
  /// Waits for a batch being prepared ahead: its job writes into this sampler.
  ~BayesSampler() override;
  BayesSampler(const BayesSampler&) = delete;
  BayesSampler& operator=(const BayesSampler&) = delete;
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
  /// One GP fit and the batch of suggestions it gives, from a snapshot of what it needs, so that
  /// it can run on another thread while the sampler goes on taking observations.
  struct BatchJob {
    std::int64_t trial_id = 0;                    ///< seeds the fit and the candidates
    std::size_t observations = 0;                 ///< the number observed at the snapshot
    bool refit = false;                           ///< hyperparameters due; else the last ones, conditioned anew
    Eigen::MatrixXd x;                            ///< the training rows, encoded
    Eigen::VectorXd y;                            ///< their targets, not warped
    std::vector<Eigen::VectorXd> liars;           ///< pending trials, encoded
    std::vector<std::vector<double>> incumbents;  ///< the best few observations
    std::size_t size = 1;                         ///< suggestions wanted
    GaussianProcess gp, rival;                    ///< in: the last fits; out: this one's
    PowerWarp::Family family = PowerWarp::Family::kYeoJohnson;  ///< in: the last warp; out: this one's
    std::vector<std::vector<double>> batch;                     ///< out
  };
  /// One suggestion, step by step: the space-filling design (before the GP has data); else a
  /// snapshot of the training rows, the pending trials and the best points; the GP's fit on it,
  /// the constant liar for pending trials, random candidates, their local refinement, and the
  /// best ones not already observed or pending.
  TrialSpec design_point(std::int64_t trial_id) const;
  std::vector<std::size_t> training_rows(const Eigen::VectorXd& all_y) const;
  /// Moves the GPs into the job: the sampler does not use them until apply() gives them back.
  BatchJob snapshot(std::int64_t trial_id, std::span<const TrialSpec> pending);
  /// Reads only the job, the space, the options and (locked) the taken points.
  void compute(BatchJob& job) const;
  /// The job's batch becomes the prepared suggestions, and its GPs the sampler's.
  void apply(BatchJob job);
  /// Refits the hyperparameters under each output warp and each kernel, keeping the likelier.
  void fit_model(BatchJob& job) const;
  Eigen::VectorXd acquisition(const GaussianProcess& gp, const Eigen::MatrixXd& candidates, double best_y) const;
  Eigen::VectorXd acquisition_from(const Eigen::VectorXd& mean, const Eigen::VectorXd& sd, double best_y) const;
  Candidates random_candidates(const BatchJob& job, double best_y) const;
  /// Under the additive kernel, points made of each input's best values by its part alone.
  void additive_candidates(const BatchJob& job, Candidates& candidates) const;
  /// Sets the candidates' acquisition values.
  void score(const GaussianProcess& gp, Candidates& candidates, double best_y) const;
  void refine(const BatchJob& job, double best_y, Candidates& candidates) const;
  /// A point's encoding, exactly: observed and suggested points are kept in sets of these.
  using Key = std::vector<double>;
  Key key(const std::vector<double>& u) const;
  bool is_taken(const Key& k) const;
  TrialSpec remember(TrialSpec spec);
  std::vector<std::vector<double>> pick_batch(const BatchJob& job, const Candidates& candidates, double best_y,
                                              double lie_y) const;
  std::optional<TrialSpec> take_prepared(std::int64_t trial_id);
  /// With a runner and a batch half used, starts the next batch's job on it.
  void prepare_next(std::int64_t trial_id, std::span<const TrialSpec> pending);

  SearchSpace space_;
  SamplerOptions options_;
  int initial_points_;
  std::size_t encoded_dims_ = 0;
  std::vector<std::vector<double>> observed_u_;
  std::vector<Observation> observed_;
  /// Observations that did not fail: counted as they come (counting them per suggestion made
  /// 1M-trial studies quadratic).
  std::size_t usable_ = 0;
  mutable std::mutex keys_mutex_;  ///< a job ahead reads the keys while observe() adds to them
  std::set<Key> observed_keys_, suggested_keys_;
  std::deque<std::vector<double>> prepared_;  ///< the rest of the last batch, in order
  std::size_t prepared_at_ = 0, prepared_size_ = 0;
  GaussianProcess gp_;
  GaussianProcess rival_;      ///< the other kernel's last fit, challenging gp_'s at each refit
  std::size_t fitted_at_ = 0;  ///< number of observations at the last hyperparameter fit
  /// The output warp chosen at the last hyperparameter fit (its exponent is refitted each time).
  PowerWarp::Family warp_family_ = PowerWarp::Family::kYeoJohnson;
  /// The next batch, prepared on options_.ahead while the current one serves (a job in flight
  /// holds the GPs).
  std::optional<BatchJob> ahead_;
};

}  // namespace cs::search
