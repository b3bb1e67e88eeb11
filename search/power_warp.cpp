// Yeo and Johnson (2000), "A new family of power transformations to improve normality or
// symmetry"; Box and Cox (1964), "An analysis of transformations".
#include "search/power_warp.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cs::search {

namespace {
constexpr double kEps = 1e-9;
// The gap family's shift: the gap of this quantile of the observations, at least kMinShift sd.
constexpr double kShiftQuantile = 0.1, kMinShift = 1e-3;
}  // namespace

double PowerWarp::yeo_johnson(double z, double lambda) {
  if (z >= 0) return std::abs(lambda) < kEps ? std::log1p(z) : (std::pow(1 + z, lambda) - 1) / lambda;
  return std::abs(lambda - 2) < kEps ? -std::log1p(-z) : -(std::pow(1 - z, 2 - lambda) - 1) / (2 - lambda);
}

double PowerWarp::box_cox(double s, double lambda) {
  return std::abs(lambda) < kEps ? std::log(s) : (std::pow(s, lambda) - 1) / lambda;
}

double PowerWarp::argument(double y) const {
  if (family_ == Family::kYeoJohnson) return (y - origin_) / scale_;
  return std::max((origin_ - y) / scale_, 0.0) + shift_;  // above the best: as the best
}

double PowerWarp::operator()(double y) const {
  const double a = argument(y);
  return family_ == Family::kYeoJohnson ? yeo_johnson(a, lambda_) : -box_cox(a, lambda_);
}

Eigen::VectorXd PowerWarp::operator()(const Eigen::VectorXd& y) const {
  Eigen::VectorXd out(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) out[i] = (*this)(y[i]);
  return out;
}

double PowerWarp::log_jacobian(const Eigen::VectorXd& y) const {
  // d yeo_johnson / dz = (1 + |z|)^(+-(lambda - 1)); d box_cox / ds = s^(lambda - 1).
  double sum = 0;
  for (const double v : y) {
    const double a = argument(v);
    sum += (lambda_ - 1) * (family_ == Family::kYeoJohnson ? std::copysign(std::log1p(std::abs(a)), a) : std::log(a));
  }
  return sum;
}

PowerWarp PowerWarp::fit(const Eigen::VectorXd& y, Family family) {
  PowerWarp w;
  const auto n = static_cast<double>(y.size());
  if (y.size() < 3) return w;
  const double mean = y.mean();
  const double var = (y.array() - mean).square().mean();
  if (!(var > 1e-24)) {
    w.origin_ = mean;
    return w;
  }
  w.family_ = family;
  w.scale_ = std::sqrt(var);
  w.origin_ = family == Family::kYeoJohnson ? mean : y.maxCoeff();
  if (family == Family::kGapToBest) {
    std::vector<double> gaps(static_cast<std::size_t>(y.size()));
    for (Eigen::Index i = 0; i < y.size(); ++i) gaps[static_cast<std::size_t>(i)] = (w.origin_ - y[i]) / w.scale_;
    const auto q = gaps.begin() + static_cast<std::ptrdiff_t>(kShiftQuantile * (n - 1));
    std::nth_element(gaps.begin(), q, gaps.end());
    w.shift_ = std::max(*q, kMinShift);
  }
  // Profile log-likelihood of a Gaussian on the transformed values, with the Jacobian.
  double best = -1e300, best_lambda = 1.0;
  for (int step = 0; step <= 40; ++step) {
    w.lambda_ = -1.0 + 0.1 * step;  // -1 .. 3
    const Eigen::VectorXd t = w(y);
    const double t_var = (t.array() - t.mean()).square().mean();
    if (!(t_var > 1e-300) || !std::isfinite(t_var)) continue;
    const double ll = -0.5 * n * std::log(t_var) + w.log_jacobian(y);
    if (ll > best) best = ll, best_lambda = w.lambda_;
  }
  w.lambda_ = best_lambda;
  return w;
}

}  // namespace cs::search
