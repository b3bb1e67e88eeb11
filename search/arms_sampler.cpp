// Interleaving arms by trial index.
#include "search/arms_sampler.hpp"

#include "base/error.hpp"

namespace cs::search {

ArmsSampler::ArmsSampler(std::vector<std::unique_ptr<Sampler>> arms) : arms_(std::move(arms)) {
  if (arms_.empty()) throw ConfigError("a study needs at least one arm");
}

std::optional<TrialSpec> ArmsSampler::suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) {
  const auto k = static_cast<std::int64_t>(arms_.size());
  auto& arm = *arms_[static_cast<std::size_t>(trial_id % k)];
  std::vector<TrialSpec> mine;
  for (const auto& p : pending) {
    if (p.arm == arm.name()) mine.push_back(p);
  }
  auto spec = arm.suggest(trial_id / k, mine);
  if (!spec) return std::nullopt;
  spec->id = trial_id;
  spec->arm = arm.name();
  return spec;
}

void ArmsSampler::observe(const Observation& observation) {
  const auto k = static_cast<std::int64_t>(arms_.size());
  for (auto& arm : arms_) {
    if (arm->name() != observation.spec.arm) continue;
    Observation local = observation;
    local.spec.id = observation.spec.id / k;
    arm->observe(local);
  }
}

std::unique_ptr<Sampler> make_study_sampler(const SearchSpace& space, std::vector<SamplerOptions> arms,
                                            const std::function<std::shared_ptr<AheadRunner>()>& ahead) {
  for (auto& a : arms) {
    if (ahead && a.strategy == "bayes") a.ahead = ahead();
  }
  if (arms.size() == 1) return make_sampler(space, arms.front());
  std::vector<std::unique_ptr<Sampler>> samplers;
  for (const auto& a : arms) samplers.push_back(make_sampler(space, a));
  return std::make_unique<ArmsSampler>(std::move(samplers));
}

}  // namespace cs::search
