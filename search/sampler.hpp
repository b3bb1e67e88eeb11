// The Sampler interface: one implementation per search strategy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/enum_names.hpp"
#include "search/counter_random.hpp"
#include "search/space.hpp"
#include "search/trial_spec.hpp"

namespace cs::search {

class AheadRunner;

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  /// Proposes trial `trial_id` while `pending` are still running; nullopt when exhausted.
  virtual std::optional<TrialSpec> suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) = 0;
  virtual void observe(const Observation& observation) = 0;
};

/// Bayesian optimisation's acquisition function: expected improvement, probability of
/// improvement, upper confidence bound.
enum class Acquisition { kEi, kPi, kUcb };
inline constexpr std::array<EnumName<Acquisition>, 3> kAcquisitionNames{
    {{Acquisition::kEi, "ei"}, {Acquisition::kPi, "pi"}, {Acquisition::kUcb, "ucb"}}};

/// One arm of a study: a strategy and its settings.
struct SamplerOptions {
  std::string name;                 ///< the arm's label in the results; the strategy when empty
  std::string strategy = "random";  ///< random | grid | sampled_grid | bayes
  std::uint64_t seed = 0;
  int grid_resolution = 3;                     ///< values per continuous parameter for grid
  Acquisition acquisition = Acquisition::kEi;  ///< bayes
  double ucb_beta = 2.0;
  int initial_points = 0;  ///< bayes: space-filling design size; 0 = max(5, 2 x parameters)
  std::string cost;        ///< bayes: empty, or "energy_j" / "co2_g" to minimise too (ParEGO)
  /// bayes at scale: pending trials conditioned on as constant liars, and suggestions made per
  /// GP fit (one per 16 pending), at most. Not study keys: bench/ compares them.
  std::size_t max_liars = 64, max_batch = 64;
  /// bayes: where the next batch is prepared while the current one serves; none, the default,
  /// prepares nothing ahead. Each arm needs its own. Set by the run, not by the study file.
  std::shared_ptr<AheadRunner> ahead;
};

const std::vector<std::string>& strategy_names();

/// Throws ConfigError for an unknown strategy or acquisition.
std::unique_ptr<Sampler> make_sampler(const SearchSpace& space, const SamplerOptions& options);

}  // namespace cs::search
