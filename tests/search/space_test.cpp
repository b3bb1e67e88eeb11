// Search-space validation and the unit-cube mapping.
#include "search/space.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace cs::search {
namespace {

ParamSpec float_param(const std::string& name, double low, double high, bool log) {
  return {name, ParamKind::kFloat, low, high, log, {}};
}

TEST(SearchSpace, RejectsAnEmptySpace) { EXPECT_THROW(SearchSpace(std::vector<ParamSpec>{}), ConfigError); }

TEST(SearchSpace, RejectsLowNotBelowHighAndNamesTheParameter) {
  try {
    SearchSpace({float_param("lr", 0.1, 0.1, false)});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'lr'"), std::string::npos) << e.what();
  }
}

TEST(SearchSpace, RejectsLogScaleWithNonPositiveLow) {
  EXPECT_THROW(SearchSpace({float_param("lr", 0.0, 1.0, true)}), ConfigError);
}

TEST(SearchSpace, RejectsEmptyAndMixedCategoricals) {
  EXPECT_THROW(SearchSpace({ParamSpec{"bs", ParamKind::kCategorical, 0, 1, false, {}}}), ConfigError);
  EXPECT_THROW(
      SearchSpace({ParamSpec{"bs", ParamKind::kCategorical, 0, 1, false, {std::int64_t{1}, std::string("a")}}}),
      ConfigError);
}

TEST(SearchSpace, LogFloatStaysInBoundsAndSpreadsOverDecades) {
  SearchSpace space({float_param("lr", 1e-4, 1e-1, true)});
  int below_1e3 = 0;
  for (int i = 0; i < 1000; ++i) {
    const double v = std::get<double>(space.from_unit(0, (i + 0.5) / 1000.0));
    ASSERT_GE(v, 1e-4);
    ASSERT_LE(v, 1e-1);
    below_1e3 += v < 1e-3;
  }
  EXPECT_NEAR(below_1e3, 333, 2);  // one decade of three
}

TEST(SearchSpace, IntCoversEveryValueEqually) {
  SearchSpace space({ParamSpec{"blocks", ParamKind::kInt, 1, 3, false, {}}});
  std::array<int, 4> counts{};
  for (int i = 0; i < 300; ++i)
    counts[static_cast<std::size_t>(std::get<std::int64_t>(space.from_unit(0, (i + 0.5) / 300.0)))]++;
  EXPECT_EQ(counts[1], 100);
  EXPECT_EQ(counts[2], 100);
  EXPECT_EQ(counts[3], 100);
}

TEST(SearchSpace, ToUnitInvertsFromUnit) {
  SearchSpace space({float_param("lr", 1e-4, 1e-1, true), float_param("m", 0, 1, false),
                     ParamSpec{"bs", ParamKind::kCategorical, 0, 1, false, {std::int64_t{32}, std::int64_t{64}}}});
  for (double u : {0.1, 0.5, 0.9}) {
    EXPECT_NEAR(space.to_unit(0, space.from_unit(0, u)), u, 1e-12);
    EXPECT_NEAR(space.to_unit(1, space.from_unit(1, u)), u, 1e-12);
  }
  EXPECT_DOUBLE_EQ(space.to_unit(2, std::int64_t{64}), 0.75);
}

TEST(Params, LookupByNameWithTypeChecks) {
  std::vector<Param> params{{"lr", 0.5}, {"bs", std::int64_t{64}}, {"opt", std::string("sgd")}};
  EXPECT_DOUBLE_EQ(param_as_double(params, "lr"), 0.5);
  EXPECT_EQ(param_as_int(params, "bs"), 64);
  EXPECT_THROW(param_as_int(params, "opt"), ConfigError);
  EXPECT_THROW(param_as_double(params, "missing"), ConfigError);
}

}  // namespace
}  // namespace cs::search
