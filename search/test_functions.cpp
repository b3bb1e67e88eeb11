// The standard definitions, domains and minima (Dixon and Szegő 1978; Surjanovic and
// Bingham, "Virtual Library of Simulation Experiments: Test Functions", sfu.ca/~ssurjano).
#include "search/test_functions.hpp"

#include <array>
#include <cmath>
#include <numbers>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"

namespace cs::search {

namespace {
constexpr double kPi = std::numbers::pi;

double branin(std::span<const double> x) {
  const double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
  const double a = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return a * a + 10 * (1 - t) * std::cos(x[0]) + 10;
}

double six_hump_camel(std::span<const double> x) {
  const double a = x[0] * x[0], b = x[1] * x[1];
  return (4 - 2.1 * a + a * a / 3) * a + x[0] * x[1] + (-4 + 4 * b) * b;
}

double goldstein_price(std::span<const double> x) {
  const double s = x[0] + x[1] + 1, d = 2 * x[0] - 3 * x[1];
  const double a = 1 + s * s * (19 - 14 * x[0] + 3 * x[0] * x[0] - 14 * x[1] + 6 * x[0] * x[1] + 3 * x[1] * x[1]);
  const double b = 30 + d * d * (18 - 32 * x[0] + 12 * x[0] * x[0] + 48 * x[1] - 36 * x[0] * x[1] + 27 * x[1] * x[1]);
  return a * b;
}

/// Hartmann's functions: -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2).
template <std::size_t D>
double hartmann(std::span<const double> x, const double (&a)[4][D], const double (&p)[4][D]) {
  static constexpr std::array<double, 4> alpha{1.0, 1.2, 3.0, 3.2};
  double sum = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    double inner = 0;
    for (std::size_t j = 0; j < D; ++j) inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

double hartmann3(std::span<const double> x) {
  static constexpr double a[4][3] = {{3.0, 10, 30}, {0.1, 10, 35}, {3.0, 10, 30}, {0.1, 10, 35}};
  static constexpr double p[4][3] = {
      {0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547}, {0.03815, 0.5743, 0.8828}};
  return hartmann(x, a, p);
}

double hartmann6(std::span<const double> x) {
  static constexpr double a[4][6] = {
      {10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double p[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                     {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                     {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                     {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  return hartmann(x, a, p);
}

double rosenbrock(std::span<const double> x) {
  double sum = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    sum += 100 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1 - x[i]) * (1 - x[i]);
  }
  return sum;
}

double levy(std::span<const double> x) {
  const auto w = [&](std::size_t i) { return 1 + (x[i] - 1) / 4; };
  const std::size_t d = x.size();
  const double first = std::sin(kPi * w(0));
  const double last = (w(d - 1) - 1) * (w(d - 1) - 1) * (1 + std::pow(std::sin(2 * kPi * w(d - 1)), 2));
  double sum = first * first + last;
  for (std::size_t i = 0; i + 1 < d; ++i) {
    sum += (w(i) - 1) * (w(i) - 1) * (1 + 10 * std::pow(std::sin(kPi * w(i) + 1), 2));
  }
  return sum;
}

double ackley(std::span<const double> x) {
  double squares = 0, cosines = 0;
  for (const double v : x) squares += v * v, cosines += std::cos(2 * kPi * v);
  const double d = static_cast<double>(x.size());
  return -20 * std::exp(-0.2 * std::sqrt(squares / d)) - std::exp(cosines / d) + 20 + std::numbers::e;
}

double rastrigin(std::span<const double> x) {
  double sum = 10 * static_cast<double>(x.size());
  for (const double v : x) sum += v * v - 10 * std::cos(2 * kPi * v);
  return sum;
}

double styblinski_tang(std::span<const double> x) {
  double sum = 0;
  for (const double v : x) sum += v * v * v * v - 16 * v * v + 5 * v;
  return sum / 2;
}

const std::vector<TestFunction>& table() {
  static const std::vector<TestFunction> kFunctions{
      {"branin", 2, 0.397887357729739, {{-5.0, 10.0}, {0.0, 15.0}}, false, branin},
      {"six_hump_camel", 2, -1.031628453489877, {{-3.0, 3.0}, {-2.0, 2.0}}, false, six_hump_camel},
      {"goldstein_price", 2, 3.0, {{-2.0, 2.0}}, false, goldstein_price},
      {"hartmann3", 3, -3.86278214782076, {{0.0, 1.0}}, false, hartmann3},
      {"hartmann6", 6, -3.32236801141551, {{0.0, 1.0}}, false, hartmann6},
      {"rosenbrock", 0, 0.0, {{-5.0, 10.0}}, false, rosenbrock},
      {"levy", 0, 0.0, {{-10.0, 10.0}}, false, levy},
      {"ackley", 0, 0.0, {{-32.768, 32.768}}, false, ackley},
      {"rastrigin", 0, 0.0, {{-5.12, 5.12}}, false, rastrigin},
      {"styblinski_tang", 0, -39.16616570377142, {{-5.0, 5.0}}, true, styblinski_tang},
  };
  return kFunctions;
}
}  // namespace

const std::vector<std::string>& test_function_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& f : table()) names.push_back(f.name);
    return names;
  }();
  return kNames;
}

const TestFunction& test_function(const std::string& name) {
  for (const auto& f : table()) {
    if (f.name == name) return f;
  }
  throw ConfigError(
      fmt::format("unknown function '{}': expected one of {}", name, fmt::join(test_function_names(), ", ")));
}

double evaluate_test_function(const std::string& name, std::span<const double> x) {
  const auto& f = test_function(name);
  if (f.dims != 0 && x.size() != f.dims) {
    throw ConfigError(fmt::format("function '{}' takes {} parameters x1..x{}, got {}", name, f.dims, f.dims, x.size()));
  }
  if (x.empty()) throw ConfigError(fmt::format("function '{}' needs at least one parameter", name));
  return f.evaluate(x);
}

}  // namespace cs::search
