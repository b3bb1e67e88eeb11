// Rank statistics for the report: the Kruskal-Wallis H test with its p-value and effect size, and
// Spearman's rank correlation.
#pragma once

#include <cstddef>
#include <vector>

namespace cs::report {

struct KruskalWallis {
  double h = 0.0;            ///< tie-corrected H statistic
  int df = 0;                ///< groups - 1
  double p_value = 1.0;      ///< from the chi-squared distribution with df degrees of freedom
  double eta_squared = 0.0;  ///< (H - k + 1) / (n - k), clamped at 0
  bool valid = false;        ///< false with fewer than 2 non-empty groups or n <= k
  std::size_t missing = 0;   ///< NaN or infinite values, left out as missing
};

/// Groups of values; non-finite values are missing (counted, not ranked).
KruskalWallis kruskal_wallis(const std::vector<std::vector<double>>& groups);

/// Spearman's rank correlation of paired values (pairs with a non-finite value left out); NaN
/// with fewer than 3 pairs or a constant side.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace cs::report
