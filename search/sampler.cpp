// Builds the sampler an arm names.
#include "search/sampler.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "search/bayes_sampler.hpp"
#include "search/grid_sampler.hpp"
#include "search/random_sampler.hpp"

namespace cs::search {

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> kNames{"random", "grid", "sampled_grid", "bayes"};
  return kNames;
}

std::unique_ptr<Sampler> make_sampler(const SearchSpace& space, const SamplerOptions& o) {
  if (o.strategy == "random") return std::make_unique<RandomSampler>(space, o.seed, o.name);
  if (o.strategy == "grid") return std::make_unique<GridSampler>(space, o.grid_resolution, false, o.seed, o.name);
  if (o.strategy == "sampled_grid")
    return std::make_unique<GridSampler>(space, o.grid_resolution, true, o.seed, o.name);
  if (o.strategy == "bayes") return std::make_unique<BayesSampler>(space, o);
  throw ConfigError(
      fmt::format("unknown strategy '{}': expected one of {}", o.strategy, fmt::join(strategy_names(), ", ")));
}

}  // namespace cs::search
