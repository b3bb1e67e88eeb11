// Median stopping and ASHA decisions on hand-made curves.
#include "search/pruner.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace cs::search {
namespace {

TEST(MedianPruner, StopsABelowMedianTrialOnlyAfterWarmupAndEnoughReports) {
  MedianPruner p(1, 3);
  for (int t = 0; t < 3; ++t) {
    EXPECT_FALSE(p.should_stop(t, 1, 0.5 + 0.1 * t));
    EXPECT_FALSE(p.should_stop(t, 2, 0.6 + 0.1 * t));  // fewer than 3 earlier reports at epoch 2
  }
  EXPECT_FALSE(p.should_stop(9, 1, 0.1));  // epoch 1 is warm-up
  EXPECT_TRUE(p.should_stop(9, 2, 0.2));   // median at epoch 2 is 0.7
  EXPECT_FALSE(p.should_stop(10, 1, 0.9));
  EXPECT_FALSE(p.should_stop(10, 2, 0.75));
}

TEST(MedianPruner, UsesTheTrialsBestValueSoFar) {
  MedianPruner p(0, 1);
  EXPECT_FALSE(p.should_stop(0, 1, 0.5));
  EXPECT_FALSE(p.should_stop(0, 2, 0.5));
  EXPECT_FALSE(p.should_stop(1, 1, 0.9));
  EXPECT_FALSE(p.should_stop(1, 2, 0.4));  // best so far 0.9 is above the median 0.5
}

TEST(AshaPruner, PromotesTheTopThirdAtEachRung) {
  AshaPruner p(1, 3);
  EXPECT_FALSE(p.should_stop(0, 1, 0.5));
  EXPECT_FALSE(p.should_stop(1, 1, 0.7));
  EXPECT_TRUE(p.should_stop(2, 1, 0.6));   // 3 values at rung 1: only the best (0.7) goes on
  EXPECT_FALSE(p.should_stop(3, 1, 0.8));  // new best
  EXPECT_FALSE(p.should_stop(3, 2, 0.1));  // epoch 2 is not a rung (1, 3, 9, ...)
  EXPECT_FALSE(p.should_stop(3, 3, 0.85));
}

TEST(Pruners, FactoryChecksNames) {
  EXPECT_EQ(make_pruner(PrunerKind::kNone, 1, 1, 3), nullptr);
  EXPECT_NE(make_pruner(PrunerKind::kMedian, 1, 1, 3), nullptr);
  EXPECT_NE(make_pruner(PrunerKind::kAsha, 1, 1, 3), nullptr);
  EXPECT_EQ(enum_from_name(kPrunerNames, "hyperband"), std::nullopt);
  EXPECT_THROW(AshaPruner(1, 1), ConfigError);
}

}  // namespace
}  // namespace cs::search
