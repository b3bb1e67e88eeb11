// Random search whose trial i depends only on (seed, i).
#pragma once

#include "search/sampler.hpp"

namespace cs::search {

class RandomSampler final : public Sampler {
 public:
  RandomSampler(SearchSpace space, std::uint64_t seed) : space_(std::move(space)), seed_(seed) {}
  std::string name() const override { return "random"; }
  std::optional<TrialSpec> suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) override;
  void observe(const Observation&) override {}

 private:
  SearchSpace space_;
  std::uint64_t seed_;
};

}  // namespace cs::search
