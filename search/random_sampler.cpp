// Random search over the unit cube with a counter-based generator.
#include "search/random_sampler.hpp"

namespace cs::search {

std::optional<TrialSpec> RandomSampler::suggest(std::int64_t trial_id, std::span<const TrialSpec>) {
  TrialSpec spec{.id = trial_id, .arm = name(), .params = {}};
  for (std::size_t k = 0; k < space_.size(); ++k) {
    const double u = counter_uniform(seed_, k, static_cast<std::uint64_t>(trial_id));
    spec.params.push_back({space_.params()[k].name, space_.from_unit(k, u)});
  }
  return spec;
}

}  // namespace cs::search
