// Several strategies compared in one study: trial i belongs to arm i mod k, so the arms'
// trials interleave across workers, sites and time and get equal budgets.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "search/sampler.hpp"

namespace cs::search {

class ArmsSampler final : public Sampler {
 public:
  explicit ArmsSampler(std::vector<std::unique_ptr<Sampler>> arms);
  std::string name() const override { return "arms"; }
  std::optional<TrialSpec> suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) override;
  void observe(const Observation& observation) override;

 private:
  std::vector<std::unique_ptr<Sampler>> arms_;
};

/// One arm: its sampler. Several: an ArmsSampler over them. `ahead`, when given, makes for each
/// Bayesian arm the runner on which its next batch is prepared. Throws ConfigError.
std::unique_ptr<Sampler> make_study_sampler(const SearchSpace& space, std::vector<SamplerOptions> arms,
                                            const std::function<std::shared_ptr<AheadRunner>()>& ahead = {});

}  // namespace cs::search
