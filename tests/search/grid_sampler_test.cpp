// Grid search covers exactly the factorial set.
#include "search/grid_sampler.hpp"

#include <gtest/gtest.h>

#include <set>

#include "base/error.hpp"
#include "search/sampler.hpp"

namespace cs::search {
namespace {

SearchSpace space() {
  return SearchSpace({{"lr", ParamKind::kFloat, 1e-3, 1e-1, true, {}},
                      {"blocks", ParamKind::kInt, 1, 2, false, {}},
                      {"bs", ParamKind::kCategorical, 0, 1, false, {std::int64_t{32}, std::int64_t{64}}}});
}

std::set<std::string> key_set(GridSampler& g) {
  std::set<std::string> keys;
  for (std::int64_t i = 0;; ++i) {
    auto s = g.suggest(i, {});
    if (!s) break;
    std::string key;
    for (const auto& p : s->params) key += to_string(p.value) + "|";
    EXPECT_TRUE(keys.insert(key).second) << "duplicate grid point " << key;
  }
  return keys;
}

TEST(GridSampler, FullFactorialExactly) {
  GridSampler g(space(), 3, false, 0);
  ASSERT_EQ(g.grid_size(), 3u * 2u * 2u);  // int range 1..2 gives 2 values, not 3
  const auto keys = key_set(g);
  EXPECT_EQ(keys.size(), 12u);
  EXPECT_TRUE(keys.contains("0.001|1|32|"));
  EXPECT_TRUE(keys.contains("0.1|2|64|"));
  // The middle of a log axis is the geometric mean of its ends.
  GridSampler again(space(), 3, false, 0);
  std::set<double> lrs;
  for (int i = 0; i < 12; ++i) lrs.insert(std::get<double>(again.suggest(i, {})->params[0].value));
  ASSERT_EQ(lrs.size(), 3u);
  EXPECT_NEAR(*std::next(lrs.begin()), 0.01, 1e-15);
}

TEST(GridSampler, ShuffledGridIsTheSameSetInASeededOrder) {
  GridSampler plain(space(), 3, false, 0), a(space(), 3, true, 9), b(space(), 3, true, 9);
  EXPECT_EQ(key_set(plain), key_set(a));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(*a.suggest(i, {}), *b.suggest(i, {}));
}

TEST(SamplerFactory, UnknownStrategyNamesIt) {
  try {
    SamplerOptions options;
    options.strategy = "annealing";
    make_sampler(space(), options);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("annealing"), std::string::npos);
  }
}

}  // namespace
}  // namespace cs::search
