// Synthetic objectives for testing search without training: the standard test functions of
// the optimisation literature (Branin, Six-hump camel, Goldstein–Price, Hartmann-3 and -6,
// Rosenbrock, Levy, Ackley, Rastrigin, Styblinski–Tang), to be minimised.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace cs::search {

struct TestFunction {
  std::string name;
  std::size_t dims = 0;                           ///< 0 = any number of dimensions
  double minimum = 0.0;                           ///< the global minimum value (per dimension if per_dimension)
  std::vector<std::pair<double, double>> bounds;  ///< per dimension; the last repeats when dims == 0
  bool per_dimension = false;                     ///< the minimum is `minimum` times the dimension
  double (*evaluate)(std::span<const double> x) = nullptr;

  /// The global minimum in `d` dimensions.
  double minimum_in(std::size_t d) const { return per_dimension ? minimum * static_cast<double>(d) : minimum; }
  /// The search interval of dimension `i` (0-based).
  const std::pair<double, double>& bound(std::size_t i) const { return bounds[std::min(i, bounds.size() - 1)]; }
};

/// Throws ConfigError for an unknown name, naming those that exist.
const TestFunction& test_function(const std::string& name);
const std::vector<std::string>& test_function_names();

/// Evaluates the named function at x (to be minimised).
double evaluate_test_function(const std::string& name, std::span<const double> x);

}  // namespace cs::search
