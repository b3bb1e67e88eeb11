// Random search is reproducible from (seed, trial index) alone.
#include "search/random_sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace cs::search {
namespace {

SearchSpace demo_space() {
  return SearchSpace(
      {{"lr", ParamKind::kFloat, 1e-4, 1e-1, true, {}},
       {"batch_size", ParamKind::kCategorical, 0, 1, false, {std::int64_t{32}, std::int64_t{64}, std::int64_t{128}}},
       {"conv_blocks", ParamKind::kInt, 1, 3, false, {}}});
}

TEST(RandomSampler, SameSeedSameTrials) {
  RandomSampler a(demo_space(), 7), b(demo_space(), 7);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*a.suggest(i, {}), *b.suggest(i, {}));
}

TEST(RandomSampler, DifferentSeedsDiffer) {
  RandomSampler a(demo_space(), 7), b(demo_space(), 8);
  EXPECT_NE(a.suggest(0, {})->params, b.suggest(0, {})->params);
}

TEST(RandomSampler, TrialDependsOnlyOnItsIndexNotOnOrderOrPending) {
  // Two "clusters": one asks in order with nothing pending, the other in reverse with a
  // large pending set and observations in between, as with many workers.
  RandomSampler in_order(demo_space(), 3), shuffled(demo_space(), 3);
  std::vector<TrialSpec> forward;
  for (int i = 0; i < 30; ++i) forward.push_back(*in_order.suggest(i, {}));
  std::vector<TrialSpec> pending(forward.begin(), forward.begin() + 10);
  for (int i = 29; i >= 0; --i) {
    shuffled.observe({forward[static_cast<std::size_t>(i)], TrialStatus::kCompleted, 0.5, 1.0});
    EXPECT_EQ(*shuffled.suggest(i, pending), forward[static_cast<std::size_t>(i)]);
  }
}

TEST(RandomSampler, CoversTheCategoricalChoices) {
  RandomSampler s(demo_space(), 1);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 60; ++i) seen.insert(std::get<std::int64_t>(s.suggest(i, {})->params[1].value));
  EXPECT_EQ(seen, (std::set<std::int64_t>{32, 64, 128}));
}

TEST(CounterUniform, IsInUnitIntervalAndRoughlyUniform) {
  double sum = 0;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const double u = counter_uniform(5, 0, i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.01);
}

}  // namespace
}  // namespace cs::search
