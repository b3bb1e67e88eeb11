// Pareto front and hypervolume on known sets.
#include "search/pareto.hpp"

#include <gtest/gtest.h>

namespace cs::search {
namespace {

TEST(Pareto, KeepsOnlyNonDominatedPointsSortedByCost) {
  const auto front = pareto_front({{0, 0.80, 10},
                                   {1, 0.85, 20},
                                   {2, 0.70, 15},  // 2 dominated by 0
                                   {3, 0.90, 40},
                                   {4, 0.85, 30},    // 4 dominated by 1
                                   {5, 0.80, 10}});  // a tie with 0
  ASSERT_EQ(front.size(), 3u);
  EXPECT_EQ(front[0].trial_id, 0);
  EXPECT_EQ(front[1].trial_id, 1);
  EXPECT_EQ(front[2].trial_id, 3);
}

TEST(Pareto, HypervolumeOfAStaircase) {
  const auto front = pareto_front({{0, 1.0, 1.0}, {1, 2.0, 2.0}, {2, 3.0, 3.0}});
  // Reference (objective 0, cost 4): strips 1x3 + 1x2 + 1x1.
  EXPECT_DOUBLE_EQ(hypervolume_2d(front, 0.0, 4.0), 6.0);
  // A point outside the box adds nothing.
  EXPECT_DOUBLE_EQ(hypervolume_2d(front, 0.0, 2.5), 1.0 * 1.5 + 1.0 * 0.5);
  EXPECT_DOUBLE_EQ(hypervolume_2d({}, 0.0, 4.0), 0.0);
}

TEST(Pareto, SinglePointIsARectangle) {
  EXPECT_DOUBLE_EQ(hypervolume_2d(pareto_front({{0, 0.9, 100}}), 0.5, 300), 0.4 * 200);
}

}  // namespace
}  // namespace cs::search
