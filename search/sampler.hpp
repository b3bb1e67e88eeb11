// The Sampler interface: one implementation per search strategy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "search/space.hpp"
#include "search/trial_spec.hpp"

namespace cs::search {

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  /// Proposes trial `trial_id` while `pending` are still running; nullopt when exhausted.
  virtual std::optional<TrialSpec> suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) = 0;
  virtual void observe(const Observation& observation) = 0;
};

struct SamplerOptions {
  std::string strategy = "random";  ///< random | grid
  std::uint64_t seed = 0;
  int grid_resolution = 3;  ///< values per continuous parameter for grid
};

/// Throws ConfigError for an unknown strategy.
std::unique_ptr<Sampler> make_sampler(const SearchSpace& space, const SamplerOptions& options);

/// A uniform number in [0, 1) that depends only on (seed, stream, index): a counter-based
/// generator, so draws do not depend on call order.
double counter_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);

}  // namespace cs::search
