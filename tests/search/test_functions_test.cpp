// Every test function takes its published minimum at its published minimiser, and is larger
// elsewhere; arity and names are checked.
#include "search/test_functions.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace cs::search {
namespace {

struct Minimiser {
  std::string name;
  std::vector<double> x;
};

TEST(TestFunctions, EachTakesItsMinimumAtItsMinimiser) {
  const std::vector<Minimiser> known{
      {"branin", {3.14159265358979, 2.275}},
      {"six_hump_camel", {0.0898, -0.7126}},
      {"goldstein_price", {0.0, -1.0}},
      {"hartmann3", {0.114614, 0.555649, 0.852547}},
      {"hartmann6", {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}},
      {"rosenbrock", {1, 1, 1, 1}},
      {"levy", {1, 1, 1, 1}},
      {"ackley", {0, 0, 0, 0, 0}},
      {"rastrigin", {0, 0, 0}},
      {"styblinski_tang", {-2.903534, -2.903534, -2.903534, -2.903534}},
  };
  ASSERT_EQ(known.size(), test_function_names().size());
  for (const auto& [name, x] : known) {
    const auto& f = test_function(name);
    const double at = evaluate_test_function(name, x);
    EXPECT_NEAR(at, f.minimum_in(x.size()), 1e-4) << name;
    // A step away from the minimiser in every dimension, inside the bounds, is worse.
    std::vector<double> away = x;
    for (std::size_t i = 0; i < away.size(); ++i) {
      const auto [lo, hi] = f.bound(i);
      away[i] = x[i] + 0.05 * (hi - lo) <= hi ? x[i] + 0.05 * (hi - lo) : x[i] - 0.05 * (hi - lo);
    }
    EXPECT_GT(evaluate_test_function(name, away), at + 1e-3) << name;
  }
}

TEST(TestFunctions, ArityAndNamesAreChecked) {
  const double ones[4] = {1, 1, 1, 1};
  EXPECT_THROW(evaluate_test_function("branin", ones), std::exception);
  EXPECT_THROW(evaluate_test_function("rosenbrock", std::span<const double>{}), std::exception);
  try {
    test_function("griewank");
    FAIL() << "griewank is not a test function here";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("styblinski_tang"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cs::search
