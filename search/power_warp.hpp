// Output warping for BO (as HEBO does): standardise the observations, then a Yeo–Johnson
// power transform whose exponent makes them most Gaussian (maximum likelihood over a grid), so
// that a few very bad values (Rosenbrock, Goldstein–Price) do not flatten the GP near the best.
#pragma once

#include <Eigen/Dense>

namespace cs::search {

class PowerWarp {
 public:
  /// Fits the standardisation and the exponent to `y`; the identity when y has no spread.
  static PowerWarp fit(const Eigen::VectorXd& y);
  double operator()(double y) const;
  Eigen::VectorXd operator()(const Eigen::VectorXd& y) const;
  double lambda() const { return lambda_; }

  /// Yeo–Johnson's transform of z with exponent lambda.
  static double yeo_johnson(double z, double lambda);

 private:
  double mean_ = 0.0, scale_ = 1.0, lambda_ = 1.0;
};

}  // namespace cs::search
