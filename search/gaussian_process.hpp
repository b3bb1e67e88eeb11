// A Gaussian-process regressor: Matérn-5/2 kernel with ARD length scales (or a sum of one per
// input), fitted by maximising the log marginal likelihood plus a length-scale hyperprior (MAP)
// with multi-start Adam in log space, within bounds.
#pragma once

#include <cmath>
#include <cstdint>

#include <Eigen/Dense>

namespace cs::search {

class GaussianProcess {
 public:
  /// The Matérn-5/2 ARD kernel over all inputs at once, or a sum of one such kernel per input
  /// (an additive GP: Duvenaud et al. 2011, Kandasamy et al. 2015), which learns a separable
  /// function from few points because every observation informs every one-dimensional part.
  enum class Kernel { kProduct, kAdditive };

  /// Eigen's LLT leaves its status unset until computed, and copying an unfitted GP (BO copies
  /// them to fit rivals) would read it: an empty factorisation sets it.
  GaussianProcess() { chol_.compute(Eigen::MatrixXd(0, 0)); }

  struct Hyper {
    Eigen::VectorXd log_length;  ///< one per input dimension
    double log_signal_var = 0.0;
    double log_noise_var = std::log(1e-3);
  };

  /// Fits the hyperparameters and conditions on (x, y). Rows of `x` lie in the unit cube; `y`
  /// is standardised internally. `restarts` random starts plus one from the previous fit.
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, std::uint64_t seed, int restarts = 2,
           int iterations = 50);
  /// Conditions on (x, y) with the current hyperparameters (e.g. with constant-liar points).
  void condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  /// Posterior mean and standard deviation at the rows of `xs`, in the units of y.
  void predict(const Eigen::MatrixXd& xs, Eigen::VectorXd& mean, Eigen::VectorXd& sd) const;

  /// The additive kernel's part for input k alone, at the values `at` of that input: its posterior
  /// mean (about the part's share of the prior mean) and standard deviation, in the units of y.
  /// Only for Kernel::kAdditive.
  void part_posterior(Eigen::Index k, const Eigen::VectorXd& at, Eigen::VectorXd& mean, Eigen::VectorXd& sd) const;

  /// The joint posterior at the rows of `xs`: mean and covariance, in the units of y.
  void posterior(const Eigen::MatrixXd& xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const;
  /// The fitted observation noise variance, in the units of y squared.
  double noise_variance() const { return std::exp(hyper_.log_noise_var) * y_scale_ * y_scale_; }

  /// The log marginal likelihood of the standardised data under `h`, and its gradient.
  double log_marginal_likelihood(const Hyper& h, Eigen::VectorXd* gradient) const;
  /// The log density of the length-scale hyperprior at `h` (up to a constant), and its gradient:
  /// log l ~ Normal(sqrt 2 + log(d) / 2 - 1.5, sqrt 3): the dimension-scaled prior of Hvarfner et
  /// al. (2024), BoTorch's default, centred on shorter scales. `fit` maximises likelihood plus
  /// prior (MAP).
  /// The additive kernel's parts are one-dimensional, so their prior is the one of d = 1.
  static double log_prior(const Hyper& h, Eigen::VectorXd* gradient, Kernel kernel = Kernel::kProduct);

  void set_kernel(Kernel kernel) { kernel_ = kernel; }
  Kernel kernel_kind() const { return kernel_; }

  /// The log marginal likelihood of the data of the last fit, in the units of y (not
  /// standardised), so that fits to differently warped outputs can be compared once the warps'
  /// log Jacobians are added.
  double log_evidence() const;

  const Hyper& hyper() const { return hyper_; }
  void set_hyper(const Hyper& h) { hyper_ = h; }
  bool fitted() const { return x_.rows() > 0; }

  /// Matérn 5/2 correlation at scaled distance r.
  static double matern52(double r);

 private:
  static Eigen::MatrixXd part_correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b, double log_length);
  Eigen::MatrixXd kernel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, const Hyper& h) const;

  Kernel kernel_ = Kernel::kProduct;
  Hyper hyper_;
  Eigen::MatrixXd x_;
  Eigen::VectorXd y_std_;  ///< standardised outputs
  double y_mean_ = 0.0, y_scale_ = 1.0;
  Eigen::LLT<Eigen::MatrixXd> chol_;
  Eigen::VectorXd alpha_;
};

}  // namespace cs::search
