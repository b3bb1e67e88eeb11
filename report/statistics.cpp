// Kruskal-Wallis with average ranks for ties; the p-value from Boost.Math.
#include "report/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/math/distributions/chi_squared.hpp>

#include "base/order_statistics.hpp"

namespace cs::report {

KruskalWallis kruskal_wallis(const std::vector<std::vector<double>>& groups) {
  KruskalWallis out;
  std::vector<std::pair<double, std::size_t>> all;  // value, group
  std::vector<std::size_t> sizes(groups.size(), 0);
  std::size_t k = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (double v : groups[g]) {
      if (!std::isfinite(v)) {
        ++out.missing;  // NaN would never equal itself below, and sorting it is undefined
        continue;
      }
      all.emplace_back(v, g);
      ++sizes[g];
    }
    k += sizes[g] > 0;
  }
  const auto n = all.size();
  if (k < 2 || n <= k) return out;
  std::sort(all.begin(), all.end());
  std::vector<double> rank_sum(groups.size(), 0.0);
  double tie_term = 0.0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    const double average_rank = (static_cast<double>(i + j) + 1.0) / 2.0;  // ranks i+1..j
    for (std::size_t m = i; m < j; ++m) rank_sum[all[m].second] += average_rank;
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  const double nn = static_cast<double>(n);
  double h = 0.0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (sizes[g] > 0) h += rank_sum[g] * rank_sum[g] / static_cast<double>(sizes[g]);
  }
  h = 12.0 / (nn * (nn + 1.0)) * h - 3.0 * (nn + 1.0);
  const double correction = 1.0 - tie_term / (nn * nn * nn - nn);
  if (correction > 0.0) h /= correction;
  out.h = h;
  out.df = static_cast<int>(k) - 1;
  out.p_value = h > 0.0 ? boost::math::cdf(boost::math::complement(boost::math::chi_squared(out.df), h)) : 1.0;
  out.eta_squared = std::max(0.0, (h - static_cast<double>(k) + 1.0) / (nn - static_cast<double>(k)));
  out.valid = true;
  return out;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> a, b;
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    a.push_back(x[i]);
    b.push_back(y[i]);
  }
  if (a.size() < 3) return std::nan("");
  const auto ra = average_ranks(a), rb = average_ranks(b);
  const double mean = (static_cast<double>(a.size()) + 1.0) / 2.0;
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  return saa > 0.0 && sbb > 0.0 ? sab / std::sqrt(saa * sbb) : std::nan("");
}

}  // namespace cs::report
