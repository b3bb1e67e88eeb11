// Kruskal-Wallis against values computed independently, and NaN treated as missing.
#include "report/statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cs::report {
namespace {

// Reference values from SciPy 1.10.1 (Debian python3-scipy), computed once:
//   scipy.stats.kruskal([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0])
//     -> statistic 0.7714285714285722, pvalue 0.6799647735788936
//   scipy.stats.kruskal([1, 2, 2, 3, 3, 3], [2, 3, 4, 4, 5])   (ties: tie-corrected)
//     -> statistic 3.2284552845528522, pvalue 0.0723689211807827
TEST(KruskalWallis, MatchesScipyWithoutTies) {
  const auto kw = kruskal_wallis({{2.9, 3.0, 2.5, 2.6, 3.2}, {3.8, 2.7, 4.0, 2.4}, {2.8, 3.4, 3.7, 2.2, 2.0}});
  ASSERT_TRUE(kw.valid);
  EXPECT_NEAR(kw.h, 0.7714285714285722, 1e-12);
  EXPECT_NEAR(kw.p_value, 0.6799647735788936, 1e-12);
  EXPECT_EQ(kw.df, 2);
  EXPECT_DOUBLE_EQ(kw.eta_squared, 0.0);  // (H - k + 1)/(n - k) < 0, clamped
}

TEST(KruskalWallis, MatchesScipyWithTies) {
  const auto kw = kruskal_wallis({{1, 2, 2, 3, 3, 3}, {2, 3, 4, 4, 5}});
  ASSERT_TRUE(kw.valid);
  EXPECT_NEAR(kw.h, 3.2284552845528522, 1e-12);
  EXPECT_NEAR(kw.p_value, 0.0723689211807827, 1e-12);
  EXPECT_NEAR(kw.eta_squared, (3.2284552845528522 - 2 + 1) / (11 - 2), 1e-12);
}

TEST(KruskalWallis, NanAndInfinityAreMissingNotAHang) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  const auto kw = kruskal_wallis({{1, 2, nan, 2, 3, 3, 3}, {2, 3, 4, inf, 4, 5, nan}});
  ASSERT_TRUE(kw.valid);
  EXPECT_EQ(kw.missing, 3u);
  EXPECT_NEAR(kw.h, 3.2284552845528522, 1e-12);  // as if the missing values were not there
  EXPECT_FALSE(kruskal_wallis({{nan, nan}, {nan}}).valid);
}

TEST(KruskalWallis, NeedsTwoGroupsWithValues) {
  EXPECT_FALSE(kruskal_wallis({{1, 2, 3}}).valid);
  EXPECT_FALSE(kruskal_wallis({{1, 2, 3}, {}}).valid);
  EXPECT_FALSE(kruskal_wallis({{1}, {2}}).valid);  // n <= k
}

}  // namespace
}  // namespace cs::report
