// Builds the sampler a study names.
#include <fmt/format.h>

#include "errors/error.hpp"
#include "search/grid_sampler.hpp"
#include "search/random_sampler.hpp"

namespace cs::search {

const char* to_string(TrialStatus status) {
  switch (status) {
    case TrialStatus::kCompleted: return "completed";
    case TrialStatus::kFailed: return "failed";
    case TrialStatus::kDiverged: return "diverged";
    case TrialStatus::kPruned: return "pruned";
  }
  return "unknown";
}

std::unique_ptr<Sampler> make_sampler(const SearchSpace& space, const SamplerOptions& options) {
  if (options.strategy == "random") return std::make_unique<RandomSampler>(space, options.seed);
  if (options.strategy == "grid")
    return std::make_unique<GridSampler>(space, options.grid_resolution, false, options.seed);
  if (options.strategy == "sampled_grid")
    return std::make_unique<GridSampler>(space, options.grid_resolution, true, options.seed);
  throw ConfigError(fmt::format("unknown strategy '{}': expected random, grid or sampled_grid", options.strategy));
}

}  // namespace cs::search
