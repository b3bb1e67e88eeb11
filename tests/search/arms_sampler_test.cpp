// Arms interleave by trial index and keep their own samplers' sequences.
#include "search/arms_sampler.hpp"

#include <gtest/gtest.h>

#include "search/random_sampler.hpp"
#include "search/test_functions.hpp"

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

TEST(TestFunctions, KnownMinimaAndArityChecks) {
  const double branin_min[2] = {3.14159265358979, 2.275};
  EXPECT_NEAR(evaluate_test_function("branin", branin_min), test_function("branin").minimum, 1e-6);
  const double h6[6] = {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573};
  EXPECT_NEAR(evaluate_test_function("hartmann6", h6), test_function("hartmann6").minimum, 1e-4);
  const double ones[4] = {1, 1, 1, 1};
  EXPECT_DOUBLE_EQ(evaluate_test_function("rosenbrock", ones), 0.0);
  EXPECT_THROW(evaluate_test_function("branin", ones), std::exception);
  EXPECT_THROW(test_function("ackley"), std::exception);
}

}  // namespace
}  // namespace cs::search
