// Search strategies on the standard test functions (bench/search_compare.sh runs it beside
// Optuna). Modes:
//   search_bench suite                      the suite: function,dims,bounds,minimum
//   search_bench regret SEEDS BUDGET [NAME] simple regret of bayes and random per seed (CSV)
//   search_bench parallel SEEDS BUDGET W [V,...]  regret with W trials running: BO with the next
//                                           batch prepared ahead (ahead), without (batched), and
//                                           one suggestion per fit (one_per_fit); all by default
//   search_bench serve FUNCTION DIMS        reads points, one per line, writes f(x) (for peers)
//   search_bench latency                    BO suggestion latency by history size
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/order_statistics.hpp"
#include "search/bayes_sampler.hpp"
#include "search/prepare_ahead.hpp"
#include "search/random_sampler.hpp"
#include "search/test_functions.hpp"

using namespace cs::search;

namespace {

struct Problem {
  std::string function;
  std::size_t dims;
};

/// Ten functions of 2 to 6 dimensions: smooth, steep-valleyed (Rosenbrock, Goldstein–Price) and
/// multimodal (Levy, Ackley, Rastrigin, Styblinski–Tang, Hartmann).
const std::vector<Problem>& suite() {
  static const std::vector<Problem> kSuite{
      {"branin", 2},     {"six_hump_camel", 2}, {"goldstein_price", 2}, {"hartmann3", 3}, {"rastrigin", 3},
      {"rosenbrock", 4}, {"levy", 4},           {"styblinski_tang", 4}, {"ackley", 5},    {"hartmann6", 6}};
  return kSuite;
}

SearchSpace space_of(const Problem& p) {
  const auto& f = test_function(p.function);
  std::vector<ParamSpec> params;
  for (std::size_t i = 0; i < p.dims; ++i) {
    params.push_back({fmt::format("x{}", i + 1), ParamKind::kFloat, f.bound(i).first, f.bound(i).second, false, {}});
  }
  return SearchSpace(params);
}

double evaluate(const Problem& p, const TrialSpec& spec) {
  std::vector<double> x;
  for (const auto& param : spec.params) x.push_back(std::get<double>(param.value));
  return evaluate_test_function(p.function, x);
}

double simple_regret(Sampler& s, const Problem& p, int budget) {
  double best = 1e300;
  for (int i = 0; i < budget; ++i) {
    const auto spec = *s.suggest(i, {});
    const double f = evaluate(p, spec);
    best = std::min(best, f);
    s.observe({spec, TrialStatus::kCompleted, -f, 1.0, 0.0});
  }
  return best - test_function(p.function).minimum_in(p.dims);
}

int print_suite() {
  std::printf("function,dims,bounds,minimum\n");
  for (const auto& p : suite()) {
    const auto& f = test_function(p.function);
    std::string bounds;
    for (std::size_t i = 0; i < p.dims; ++i)
      bounds += fmt::format("{}{}:{}", i ? ";" : "", f.bound(i).first, f.bound(i).second);
    std::printf("%s,%zu,%s,%.15g\n", p.function.c_str(), p.dims, bounds.c_str(), f.minimum_in(p.dims));
  }
  return 0;
}

int regret(int seeds, int budget, const std::string& only) {
  std::printf("function,strategy,seed,regret\n");
  for (const auto& p : suite()) {
    if (!only.empty() && p.function != only) continue;
    std::vector<double> bo, rs;
    for (int seed = 0; seed < seeds; ++seed) {
      SamplerOptions o;
      o.strategy = "bayes";
      o.seed = static_cast<std::uint64_t>(seed);
      BayesSampler bayes(space_of(p), o);
      RandomSampler random(space_of(p), static_cast<std::uint64_t>(seed));
      bo.push_back(simple_regret(bayes, p, budget));
      rs.push_back(simple_regret(random, p, budget));
      std::printf("%s,bayes,%d,%.6g\n%s,random,%d,%.6g\n", p.function.c_str(), seed, bo.back(), p.function.c_str(),
                  seed, rs.back());
      std::fflush(stdout);
    }
    std::fprintf(stderr, "%-16s median regret after %d: bayes %.4g, random %.4g\n", p.function.c_str(), budget,
                 cs::median(bo), cs::median(rs));
  }
  return 0;
}

/// Simple regret after `budget` trials with `workers` running at once (the oldest ends first),
/// and the seconds spent suggesting.
std::pair<double, double> parallel_regret(Sampler& s, const Problem& p, int budget, int workers) {
  std::vector<TrialSpec> pending;
  double best = 1e300, suggest_s = 0.0;
  int issued = 0;
  while (issued < budget || !pending.empty()) {
    while (issued < budget && static_cast<int>(pending.size()) < workers) {
      const auto t0 = std::chrono::steady_clock::now();
      pending.push_back(*s.suggest(issued++, pending));
      suggest_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const TrialSpec done = pending.front();
    pending.erase(pending.begin());
    const double f = evaluate(p, done);
    best = std::min(best, f);
    s.observe({done, TrialStatus::kCompleted, -f, 1.0, 0.0});
  }
  return {best - test_function(p.function).minimum_in(p.dims), suggest_s};
}

int parallel(int seeds, int budget, int workers, const std::vector<std::string>& variants) {
  // ahead: batches of suggestions per GP fit, a capped set of constant liars, and the next
  // batch prepared on a thread of its own (a run's defaults); batched: the same, each batch
  // fitted when it is needed; one_per_fit: every pending trial a liar, one suggestion per fit
  // (before batching). suggest_s is the caller's time: a batch prepared ahead is not in it.
  std::printf("function,strategy,seed,regret,suggest_s\n");
  for (const auto& p : suite()) {
    std::vector<std::vector<double>> regrets(variants.size()), times(variants.size());
    for (int seed = 0; seed < seeds; ++seed) {
      for (std::size_t v = 0; v < variants.size(); ++v) {
        SamplerOptions o;
        o.strategy = "bayes";
        o.seed = static_cast<std::uint64_t>(seed);
        if (variants[v] == "ahead") o.ahead = std::make_shared<ThreadAheadRunner>();
        if (variants[v] == "one_per_fit") o.max_liars = 1u << 30, o.max_batch = 1;
        BayesSampler bayes(space_of(p), o);
        const auto [r, t] = parallel_regret(bayes, p, budget, workers);
        regrets[v].push_back(r);
        times[v].push_back(t);
        std::printf("%s,%s,%d,%.6g,%.4g\n", p.function.c_str(), variants[v].c_str(), seed, r, t);
        std::fflush(stdout);
      }
    }
    std::string line = fmt::format("{:<16} {} workers, median regret after {}:", p.function, workers, budget);
    for (std::size_t v = 0; v < variants.size(); ++v)
      line += fmt::format(" {} {:.4g} ({:.2f} s)", variants[v], cs::median(regrets[v]), cs::median(times[v]));
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  return 0;
}

int serve(const std::string& function, std::size_t dims) {
  std::string line;
  std::vector<double> x;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    x.clear();
    for (double v; in >> v;) x.push_back(v);
    if (x.size() != dims) {
      std::fprintf(stderr, "search_bench serve: expected %zu numbers, got %zu\n", dims, x.size());
      return 2;
    }
    std::printf("%.17g\n", evaluate_test_function(function, x));
    std::fflush(stdout);
  }
  return 0;
}

int latency() {
  // A history of n random Hartmann-6 observations, then 10 suggestions in a row.
  const Problem h6{"hartmann6", 6};
  for (const int n : {200, 1000, 3000}) {
    SamplerOptions o;
    o.strategy = "bayes";
    o.seed = 1;
    BayesSampler bayes(space_of(h6), o);
    RandomSampler random(space_of(h6), 99);
    for (int i = 0; i < n; ++i) {
      auto spec = *random.suggest(i, {});
      bayes.observe({spec, TrialStatus::kCompleted, -evaluate(h6, spec), 1.0, 0.0});
    }
    std::vector<double> ms;
    for (int i = 0; i < 10; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto spec = *bayes.suggest(n + i, {});
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      bayes.observe({spec, TrialStatus::kCompleted, -evaluate(h6, spec), 1.0, 0.0});
    }
    std::printf("latency at %4d observations: first (with hyperparameter fit) %.1f ms, next 9 median %.1f ms\n", n,
                ms.front(), cs::median(std::vector<double>(ms.begin() + 1, ms.end())));
  }
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: search_bench suite | regret SEEDS BUDGET [FUNCTION] | "
               "parallel SEEDS BUDGET WORKERS [ahead,batched,one_per_fit] | "
               "serve FUNCTION DIMS | latency\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 1 && args[0] == "suite") return print_suite();
    if (args.size() == 1 && args[0] == "latency") return latency();
    if ((args.size() == 3 || args.size() == 4) && args[0] == "regret") {
      const int seeds = std::atoi(args[1].c_str()), budget = std::atoi(args[2].c_str());
      if (seeds < 1 || seeds > 1000 || budget < 2 || budget > 10000) return usage();
      return regret(seeds, budget, args.size() == 4 ? args[3] : "");
    }
    if ((args.size() == 4 || args.size() == 5) && args[0] == "parallel") {
      const int seeds = std::atoi(args[1].c_str()), budget = std::atoi(args[2].c_str()),
                workers = std::atoi(args[3].c_str());
      if (seeds < 1 || seeds > 1000 || budget < 2 || budget > 100000 || workers < 1 || workers > 100000) return usage();
      std::vector<std::string> variants;
      std::istringstream list(args.size() == 5 ? args[4] : "ahead,batched,one_per_fit");
      for (std::string v; std::getline(list, v, ',');) {
        if (v != "ahead" && v != "batched" && v != "one_per_fit") return usage();
        variants.push_back(v);
      }
      if (variants.empty()) return usage();
      return parallel(seeds, budget, workers, variants);
    }
    if (args.size() == 3 && args[0] == "serve") {
      const int dims = std::atoi(args[2].c_str());
      if (dims < 1 || dims > 100) return usage();
      return serve(args[1], static_cast<std::size_t>(dims));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "search_bench: %s\n", e.what());
    return 2;
  }
  return usage();
}
