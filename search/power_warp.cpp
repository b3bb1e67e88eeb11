// Yeo and Johnson (2000), "A new family of power transformations to improve normality or symmetry".
#include "search/power_warp.hpp"

#include <cmath>

namespace cs::search {

double PowerWarp::yeo_johnson(double z, double lambda) {
  constexpr double kEps = 1e-9;
  if (z >= 0) return std::abs(lambda) < kEps ? std::log1p(z) : (std::pow(1 + z, lambda) - 1) / lambda;
  return std::abs(lambda - 2) < kEps ? -std::log1p(-z) : -(std::pow(1 - z, 2 - lambda) - 1) / (2 - lambda);
}

PowerWarp PowerWarp::fit(const Eigen::VectorXd& y) {
  PowerWarp w;
  const auto n = static_cast<double>(y.size());
  if (y.size() < 3) return w;
  w.mean_ = y.mean();
  const double var = (y.array() - w.mean_).square().mean();
  if (!(var > 1e-24)) return w;
  w.scale_ = std::sqrt(var);
  const Eigen::ArrayXd z = (y.array() - w.mean_) / w.scale_;
  // Profile log-likelihood of a Gaussian on the transformed values, with the Jacobian.
  double jacobian_unit = 0;  // sum of sign(z) log(1 + |z|)
  for (const double v : z) jacobian_unit += (v >= 0 ? 1.0 : -1.0) * std::log1p(std::abs(v));
  double best = -1e300;
  for (int step = 0; step <= 40; ++step) {
    const double lambda = -1.0 + 0.1 * step;  // -1 .. 3
    Eigen::ArrayXd t(z.size());
    for (Eigen::Index i = 0; i < z.size(); ++i) t[i] = yeo_johnson(z[i], lambda);
    const double t_var = (t - t.mean()).square().mean();
    if (!(t_var > 1e-300) || !std::isfinite(t_var)) continue;
    const double ll = -0.5 * n * std::log(t_var) + (lambda - 1) * jacobian_unit;
    if (ll > best) best = ll, w.lambda_ = lambda;
  }
  return w;
}

double PowerWarp::operator()(double y) const { return yeo_johnson((y - mean_) / scale_, lambda_); }

Eigen::VectorXd PowerWarp::operator()(const Eigen::VectorXd& y) const {
  Eigen::VectorXd out(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) out[i] = (*this)(y[i]);
  return out;
}

}  // namespace cs::search
