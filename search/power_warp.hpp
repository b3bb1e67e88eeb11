// Output warping for BO, two families:
// - Yeo–Johnson (2000) on the standardised observations, as HEBO does: a power whose exponent
//   makes them most Gaussian (maximum likelihood over a grid), so that a few very bad values
//   (Rosenbrock) do not flatten the GP near the best;
// - a Box–Cox power of the gap to the best observation, (max y - y) / sd + shift, whose log
//   (exponent 0) spreads values spanning orders of magnitude (Goldstein–Price, 3 to 1e6) as
//   their log does; the shift, the gap of the best tenth (at least 0.001 sd), keeps the best
//   point from becoming an outlier far below the rest.
// BayesSampler fits a GP under each and keeps the one under which the data are likeliest
// (warped-GP evidence plus the warp's log Jacobian).
#pragma once

#include <Eigen/Dense>

namespace cs::search {

class PowerWarp {
 public:
  enum class Family { kYeoJohnson, kGapToBest };

  /// Fits the standardisation and the exponent to `y`; the identity when y has no spread or
  /// fewer than 3 values. Larger y stays larger after the warp.
  static PowerWarp fit(const Eigen::VectorXd& y, Family family = Family::kYeoJohnson);
  double operator()(double y) const;
  Eigen::VectorXd operator()(const Eigen::VectorXd& y) const;
  /// The sum over `y` of log |d warp(y) / d(y / sd)|: added to a model's log likelihood of the
  /// warped values, the log likelihood of y / sd, comparable between warps of either family.
  double log_jacobian(const Eigen::VectorXd& y) const;
  double lambda() const { return lambda_; }
  Family family() const { return family_; }

  /// Yeo–Johnson's transform of z with exponent lambda.
  static double yeo_johnson(double z, double lambda);
  /// Box–Cox's transform of s > 0 with exponent lambda.
  static double box_cox(double s, double lambda);

 private:
  /// The value the power applies to: the standardised y (Yeo–Johnson) or the shifted gap.
  double argument(double y) const;

  Family family_ = Family::kYeoJohnson;
  double origin_ = 0.0, scale_ = 1.0, shift_ = 0.0, lambda_ = 1.0;
};

}  // namespace cs::search
