// Bayesian optimisation against random search on Branin and Hartmann-6 (median simple
// regret over seeds after a budget of evaluations), and BO suggestion latency by history size.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/order_statistics.hpp"
#include "search/bayes_sampler.hpp"
#include "search/random_sampler.hpp"
#include "search/test_functions.hpp"

using namespace cs::search;

namespace {

SearchSpace space_of(const std::string& function) {
  const auto& f = test_function(function);
  std::vector<ParamSpec> params;
  for (std::size_t i = 0; i < f.dims; ++i) {
    const auto& b = f.bounds[std::min(i, f.bounds.size() - 1)];
    params.push_back({fmt::format("x{}", i + 1), ParamKind::kFloat, b.first, b.second, false, {}});
  }
  return SearchSpace(params);
}

double evaluate(const std::string& function, const TrialSpec& spec) {
  std::vector<double> x;
  for (const auto& p : spec.params) x.push_back(std::get<double>(p.value));
  return evaluate_test_function(function, x);
}

double simple_regret(Sampler& s, const std::string& function, int budget) {
  double best = 1e300;
  for (int i = 0; i < budget; ++i) {
    const auto spec = *s.suggest(i, {});
    const double f = evaluate(function, spec);
    best = std::min(best, f);
    s.observe({spec, TrialStatus::kCompleted, -f, 1.0, 0.0});
  }
  return best - test_function(function).minimum;
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 20;
  const int budget = argc > 2 ? std::atoi(argv[2]) : 50;
  std::printf("function,strategy,seed,regret\n");
  for (const std::string function : {"branin", "hartmann6"}) {
    std::vector<double> bo, rs;
    for (int seed = 0; seed < seeds; ++seed) {
      SamplerOptions o;
      o.strategy = "bayes";
      o.seed = static_cast<std::uint64_t>(seed);
      BayesSampler bayes(space_of(function), o);
      RandomSampler random(space_of(function), static_cast<std::uint64_t>(seed));
      bo.push_back(simple_regret(bayes, function, budget));
      rs.push_back(simple_regret(random, function, budget));
      std::printf("%s,bayes,%d,%.6g\n%s,random,%d,%.6g\n", function.c_str(), seed, bo.back(), function.c_str(), seed,
                  rs.back());
    }
    std::fprintf(stderr, "%-10s median regret after %d: bayes %.4g, random %.4g, ratio %.1fx\n", function.c_str(),
                 budget, cs::median(bo), cs::median(rs), cs::median(rs) / cs::median(bo));
  }

  // Latency: a history of n random Hartmann-6 observations, then 10 suggestions in a row.
  for (const int n : {200, 1000, 3000}) {
    SamplerOptions o;
    o.strategy = "bayes";
    o.seed = 1;
    const auto space = space_of("hartmann6");
    BayesSampler bayes(space, o);
    RandomSampler random(space, 99);
    for (int i = 0; i < n; ++i) {
      auto spec = *random.suggest(i, {});
      bayes.observe({spec, TrialStatus::kCompleted, -evaluate("hartmann6", spec), 1.0, 0.0});
    }
    std::vector<double> ms;
    for (int i = 0; i < 10; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto spec = *bayes.suggest(n + i, {});
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      bayes.observe({spec, TrialStatus::kCompleted, -evaluate("hartmann6", spec), 1.0, 0.0});
    }
    std::fprintf(stderr,
                 "latency at %4d observations: first (with hyperparameter fit) %.1f ms, next 9 median %.1f ms\n", n,
                 ms.front(), cs::median(std::vector<double>(ms.begin() + 1, ms.end())));
  }
}
