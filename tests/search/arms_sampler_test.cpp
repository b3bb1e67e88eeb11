// Arms interleave by trial index and keep their own samplers' sequences.
#include "search/arms_sampler.hpp"

#include <gtest/gtest.h>

#include "search/random_sampler.hpp"

namespace cs::search {
namespace {

SearchSpace space() { return SearchSpace({{"x1", ParamKind::kFloat, 0, 1, false, {}}}); }

TEST(ArmsSampler, InterleavesArmsAndKeepsEachArmsSequence) {
  SamplerOptions random, grid;
  random.strategy = "random";
  random.name = "random";
  grid.strategy = "grid";
  grid.name = "grid";
  grid.grid_resolution = 5;
  auto arms = make_study_sampler(space(), {random, grid});
  RandomSampler alone(space(), 0);
  for (int i = 0; i < 10; ++i) {
    const auto spec = *arms->suggest(i, {});
    EXPECT_EQ(spec.id, i);
    EXPECT_EQ(spec.arm, i % 2 == 0 ? "random" : "grid");
    if (i % 2 == 0) {
      EXPECT_EQ(spec.params, alone.suggest(i / 2, {})->params);
    } else {
      EXPECT_DOUBLE_EQ(std::get<double>(spec.params[0].value), 0.25 * (i / 2));
    }
    arms->observe({spec, TrialStatus::kCompleted, 0.5, 1.0, 0.0});
  }
}

TEST(ArmsSampler, OneArmIsThatSamplerItself) {
  SamplerOptions random;
  auto s = make_study_sampler(space(), {random});
  EXPECT_EQ(s->name(), "random");
}

}  // namespace
}  // namespace cs::search
