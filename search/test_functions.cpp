// The standard definitions (Dixon and Szegő 1978; Surjanovic and Bingham's library).
#include "search/test_functions.hpp"

#include <array>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::search {

namespace {
const std::vector<TestFunction>& table() {
  static const std::vector<TestFunction> kFunctions{
      {"branin", 2, 0.397887357729739, {{-5.0, 10.0}, {0.0, 15.0}}},
      {"hartmann6", 6, -3.32236801141551, {{0.0, 1.0}}},
      {"rosenbrock", 0, 0.0, {{-5.0, 10.0}}},
  };
  return kFunctions;
}

double branin(std::span<const double> x) {
  const double pi = std::numbers::pi;
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  const double a = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return a * a + 10 * (1 - t) * std::cos(x[0]) + 10;
}

double hartmann6(std::span<const double> x) {
  static constexpr std::array<double, 4> alpha{1.0, 1.2, 3.0, 3.2};
  static constexpr double a[4][6] = {
      {10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double p[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                     {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                     {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                     {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j)
      inner += a[i][j] * (x[static_cast<std::size_t>(j)] - p[i][j]) * (x[static_cast<std::size_t>(j)] - p[i][j]);
    sum += alpha[static_cast<std::size_t>(i)] * std::exp(-inner);
  }
  return -sum;
}

double rosenbrock(std::span<const double> x) {
  double sum = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    sum += 100 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1 - x[i]) * (1 - x[i]);
  }
  return sum;
}
}  // namespace

const TestFunction& test_function(const std::string& name) {
  for (const auto& f : table()) {
    if (f.name == name) return f;
  }
  throw ConfigError(fmt::format("unknown function '{}': expected branin, hartmann6 or rosenbrock", name));
}

const std::vector<std::string>& test_function_names() {
  static const std::vector<std::string> kNames{"branin", "hartmann6", "rosenbrock"};
  return kNames;
}

double evaluate_test_function(const std::string& name, std::span<const double> x) {
  const auto& f = test_function(name);
  if (f.dims != 0 && x.size() != f.dims) {
    throw ConfigError(fmt::format("function '{}' takes {} parameters x1..x{}, got {}", name, f.dims, f.dims, x.size()));
  }
  if (name == "branin") return branin(x);
  if (name == "hartmann6") return hartmann6(x);
  return rosenbrock(x);
}

}  // namespace cs::search
