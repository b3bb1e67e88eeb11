// GP fitting and prediction with Eigen.
#include "search/gaussian_process.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "base/error.hpp"
#include "search/sampler.hpp"

namespace cs::search {

namespace {
constexpr double kSqrt5 = 2.23606797749979;
// Bounds in log space: length scales on the unit cube, variances of standardised outputs.
constexpr double kLogLengthMin = -4.6, kLogLengthMax = 3.0;  // 0.01 .. 20
constexpr double kLogSignalMin = -3.0, kLogSignalMax = 3.0;  // 0.05 .. 20
constexpr double kLogNoiseMin = -13.8, kLogNoiseMax = -0.7;  // 1e-6 .. 0.5

Eigen::VectorXd pack(const GaussianProcess::Hyper& h) {
  Eigen::VectorXd v(h.log_length.size() + 2);
  v << h.log_length, h.log_signal_var, h.log_noise_var;
  return v;
}

GaussianProcess::Hyper unpack(const Eigen::VectorXd& v) {
  const auto d = v.size() - 2;
  return {v.head(d), v[d], v[d + 1]};
}

void clamp_to_bounds(Eigen::VectorXd& v) {
  const auto d = v.size() - 2;
  for (Eigen::Index i = 0; i < d; ++i) v[i] = std::clamp(v[i], kLogLengthMin, kLogLengthMax);
  v[d] = std::clamp(v[d], kLogSignalMin, kLogSignalMax);
  v[d + 1] = std::clamp(v[d + 1], kLogNoiseMin, kLogNoiseMax);
}
}  // namespace

double GaussianProcess::matern52(double r) {
  const double s = kSqrt5 * r;
  return (1.0 + s + s * s / 3.0) * std::exp(-s);
}

/// One input's Matérn-5/2 correlations between the values a and b (|a| x |b|): a part of the
/// additive kernel.
Eigen::MatrixXd GaussianProcess::part_correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b,
                                                  double log_length) {
  const double inv_length = std::exp(-log_length);
  return ((a * Eigen::RowVectorXd::Ones(b.size())).rowwise() - b.transpose()).unaryExpr([inv_length](double v) {
    return matern52(std::abs(v) * inv_length);
  });
}

Eigen::MatrixXd GaussianProcess::kernel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, const Hyper& h) const {
  if (kernel_ == Kernel::kAdditive) {
    // signal / d * sum over inputs k of matern52(|a_k - b_k| / l_k)
    const auto d = a.cols();
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(a.rows(), b.rows());
    for (Eigen::Index k = 0; k < d; ++k) sum += part_correlation(a.col(k), b.col(k), h.log_length[k]);
    return sum * (std::exp(h.log_signal_var) / static_cast<double>(d));
  }
  const Eigen::RowVectorXd inv_length = (-h.log_length).array().exp().matrix().transpose();
  const Eigen::MatrixXd as = a.array().rowwise() * inv_length.array();
  const Eigen::MatrixXd bs = b.array().rowwise() * inv_length.array();
  Eigen::MatrixXd r2 = (-2.0 * as * bs.transpose()).colwise() + as.rowwise().squaredNorm();
  r2.rowwise() += bs.rowwise().squaredNorm().transpose();
  const double signal = std::exp(h.log_signal_var);
  return r2.unaryExpr([signal](double v) { return signal * matern52(std::sqrt(std::max(v, 0.0))); });
}

void GaussianProcess::posterior(const Eigen::MatrixXd& xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const {
  const Eigen::MatrixXd k_star = kernel(x_, xs, hyper_);  // n x m
  mean = (k_star.transpose() * alpha_).array() * y_scale_ + y_mean_;
  const Eigen::MatrixXd v = chol_.matrixL().solve(k_star);
  cov = (kernel(xs, xs, hyper_) - v.transpose() * v) * (y_scale_ * y_scale_);
}

double GaussianProcess::log_marginal_likelihood(const Hyper& h, Eigen::VectorXd* gradient) const {
  const auto n = x_.rows();
  const auto d = x_.cols();
  Eigen::MatrixXd k = kernel(x_, x_, h);
  const Eigen::MatrixXd k_signal = k;
  k.diagonal().array() += std::exp(h.log_noise_var);
  Eigen::LLT<Eigen::MatrixXd> llt(k);
  if (llt.info() != Eigen::Success) return -1e300;
  const Eigen::VectorXd alpha = llt.solve(y_std_);
  const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
  const double lml =
      -0.5 * y_std_.dot(alpha) - 0.5 * log_det - 0.5 * static_cast<double>(n) * std::log(2 * std::numbers::pi);
  if (gradient) {
    // d lml / d theta = 0.5 tr((alpha alpha^T - K^-1) dK/dtheta)
    const Eigen::MatrixXd w = alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));
    gradient->resize(d + 2);
    const double signal = std::exp(h.log_signal_var);
    const Eigen::VectorXd inv_length2 = (-2.0 * h.log_length).array().exp();
    // Matérn 5/2: d matern52(r) / dlog l = 5/3 (1 + sqrt5 r) exp(-sqrt5 r) r^2 for r = delta / l.
    // Additive: r_k = |delta_k| / l_k of input k alone, times signal / d. Product: r over all
    // inputs, whose r^2 is the sum over k of delta_k^2 / l_k^2.
    if (kernel_ == Kernel::kAdditive) {
      for (Eigen::Index k_dim = 0; k_dim < d; ++k_dim) {
        const double inv_length = std::exp(-h.log_length[k_dim]);
        double g = 0.0;
        for (Eigen::Index i = 0; i < n; ++i) {
          for (Eigen::Index j = 0; j < n; ++j) {
            const double r = std::abs(x_(i, k_dim) - x_(j, k_dim)) * inv_length;
            g += w(i, j) * 5.0 / 3.0 * (1.0 + kSqrt5 * r) * std::exp(-kSqrt5 * r) * r * r;
          }
        }
        (*gradient)[k_dim] = 0.5 * g * signal / static_cast<double>(d);
      }
    } else {
      Eigen::MatrixXd common(n, n);
      const Eigen::MatrixXd xs = x_.array().rowwise() * inv_length2.cwiseSqrt().transpose().array();
      for (Eigen::Index i = 0; i < n; ++i) {
        for (Eigen::Index j = 0; j < n; ++j) {
          const double r = (xs.row(i) - xs.row(j)).norm();
          common(i, j) = signal * 5.0 / 3.0 * (1.0 + kSqrt5 * r) * std::exp(-kSqrt5 * r) * w(i, j);
        }
      }
      for (Eigen::Index k_dim = 0; k_dim < d; ++k_dim) {
        double g = 0.0;
        for (Eigen::Index i = 0; i < n; ++i) {
          for (Eigen::Index j = 0; j < n; ++j) {
            const double delta = x_(i, k_dim) - x_(j, k_dim);
            g += common(i, j) * delta * delta;
          }
        }
        (*gradient)[k_dim] = 0.5 * g * inv_length2[k_dim];
      }
    }
    (*gradient)[d] = 0.5 * (w.array() * k_signal.array()).sum();
    (*gradient)[d + 1] = 0.5 * w.trace() * std::exp(h.log_noise_var);
  }
  return lml;
}

double GaussianProcess::log_prior(const Hyper& h, Eigen::VectorXd* gradient, Kernel kernel) {
  const auto d = h.log_length.size();
  const auto scaled_by = kernel == Kernel::kAdditive ? 1 : d;
  // BoTorch's location, 1.5 lower (length scales 4.5x shorter): on bench/search_compare.sh's
  // multimodal functions its longer scales smoothed the optima away (docs/search.md).
  const double mu = std::sqrt(2.0) + 0.5 * std::log(static_cast<double>(scaled_by)) - 1.5, var = 3.0;
  const Eigen::ArrayXd centred = h.log_length.array() - mu;
  if (gradient) {
    *gradient = Eigen::VectorXd::Zero(d + 2);
    gradient->head(d) = -centred.matrix() / var;
  }
  return -0.5 * centred.square().sum() / var;
}

void GaussianProcess::fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, std::uint64_t seed, int restarts,
                          int iterations) {
  if (x.rows() == 0 || x.rows() != y.size()) throw Error("GaussianProcess::fit: no data or mismatched sizes");
  x_ = x;
  y_mean_ = y.mean();
  const double var = (y.array() - y_mean_).square().mean();
  y_scale_ = var > 1e-24 ? std::sqrt(var) : 1.0;
  y_std_ = (y.array() - y_mean_) / y_scale_;

  const auto d = x.cols();
  std::vector<Eigen::VectorXd> starts;
  if (hyper_.log_length.size() == d) starts.push_back(pack(hyper_));  // warm start
  Hyper default_start{Eigen::VectorXd::Constant(d, std::log(0.3)), 0.0, std::log(1e-3)};
  starts.push_back(pack(default_start));
  for (int s = 0; s < restarts; ++s) {
    Eigen::VectorXd v(d + 2);
    for (Eigen::Index i = 0; i < d + 2; ++i) {
      const double u = counter_uniform(seed, 0x6770 + static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(i));
      v[i] = i < d ? std::log(0.05) + u * (std::log(2.0) - std::log(0.05))
                   : (i == d ? -1.0 + 2.0 * u : std::log(1e-5) + u * (std::log(0.1) - std::log(1e-5)));
    }
    starts.push_back(v);
  }

  double best_lml = -1e300;
  Eigen::VectorXd best = starts.front();
  for (auto v : starts) {
    // Adam ascent on the log marginal likelihood, projected onto the bounds.
    Eigen::VectorXd m = Eigen::VectorXd::Zero(v.size()), s2 = Eigen::VectorXd::Zero(v.size()), g, g_prior;
    constexpr double kRate = 0.1, kBeta1 = 0.9, kBeta2 = 0.999;
    for (int it = 1; it <= iterations; ++it) {
      const double lml = log_marginal_likelihood(unpack(v), &g) + log_prior(unpack(v), &g_prior, kernel_);
      g += g_prior;
      if (lml > best_lml) {
        best_lml = lml;
        best = v;
      }
      if (!g.allFinite()) break;
      m = kBeta1 * m + (1 - kBeta1) * g;
      s2 = kBeta2 * s2 + (1 - kBeta2) * g.cwiseProduct(g);
      const Eigen::VectorXd m_hat = m / (1 - std::pow(kBeta1, it));
      const Eigen::VectorXd s_hat = s2 / (1 - std::pow(kBeta2, it));
      v += kRate * m_hat.cwiseQuotient((s_hat.array().sqrt() + 1e-8).matrix());
      clamp_to_bounds(v);
    }
    const double lml = log_marginal_likelihood(unpack(v), nullptr) + log_prior(unpack(v), nullptr, kernel_);
    if (lml > best_lml) {
      best_lml = lml;
      best = v;
    }
  }
  hyper_ = unpack(best);
  condition(x, y);
}

double GaussianProcess::log_evidence() const {
  return log_marginal_likelihood(hyper_, nullptr) - static_cast<double>(x_.rows()) * std::log(y_scale_);
}

void GaussianProcess::condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  x_ = x;
  y_std_ = (y.array() - y_mean_) / y_scale_;
  Eigen::MatrixXd k = kernel(x_, x_, hyper_);
  double jitter = std::exp(hyper_.log_noise_var);
  for (int attempt = 0; attempt < 6; ++attempt) {
    Eigen::MatrixXd kj = k;
    kj.diagonal().array() += jitter;
    chol_.compute(kj);
    if (chol_.info() == Eigen::Success) break;
    jitter *= 10.0;
  }
  alpha_ = chol_.solve(y_std_);
}

void GaussianProcess::part_posterior(Eigen::Index k, const Eigen::VectorXd& at, Eigen::VectorXd& mean,
                                     Eigen::VectorXd& sd) const {
  const double part_var = std::exp(hyper_.log_signal_var) / static_cast<double>(x_.cols());
  const Eigen::MatrixXd k_star = part_var * part_correlation(x_.col(k), at, hyper_.log_length[k]);  // n x m
  mean = (k_star.transpose() * alpha_).array() * y_scale_;
  const Eigen::MatrixXd v = chol_.matrixL().solve(k_star);
  sd = (part_var - v.colwise().squaredNorm().transpose().array()).max(1e-12).sqrt() * y_scale_;
}

void GaussianProcess::predict(const Eigen::MatrixXd& xs, Eigen::VectorXd& mean, Eigen::VectorXd& sd) const {
  const Eigen::MatrixXd k_star = kernel(x_, xs, hyper_);  // n x m
  mean = (k_star.transpose() * alpha_).array() * y_scale_ + y_mean_;
  const Eigen::MatrixXd v = chol_.matrixL().solve(k_star);
  const double signal = std::exp(hyper_.log_signal_var);
  sd = (signal - v.colwise().squaredNorm().transpose().array()).max(1e-12).sqrt() * y_scale_;
}

}  // namespace cs::search
