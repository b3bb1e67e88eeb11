// Synthetic objectives for testing search without training: Branin, Hartmann-6, Rosenbrock.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace cs::search {

struct TestFunction {
  std::string name;
  std::size_t dims = 0;                           ///< 0 = any number of dimensions (Rosenbrock)
  double minimum = 0.0;                           ///< the global minimum value
  std::vector<std::pair<double, double>> bounds;  ///< per dimension; the last repeats when dims == 0
};

/// Throws ConfigError for an unknown name.
const TestFunction& test_function(const std::string& name);
const std::vector<std::string>& test_function_names();

/// Evaluates the named function at x (to be minimised).
double evaluate_test_function(const std::string& name, std::span<const double> x);

}  // namespace cs::search
