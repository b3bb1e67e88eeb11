// Random search whose trial i depends only on (seed, i).
#pragma once

#include "search/sampler.hpp"

namespace cs::search {

class RandomSampler final : public Sampler {
 public:
  RandomSampler(SearchSpace space, std::uint64_t seed, std::string name = "")
      : space_(std::move(space)), seed_(seed), name_(name.empty() ? "random" : std::move(name)) {}
  std::string name() const override { return name_; }
  std::optional<TrialSpec> suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) override;
  void observe(const Observation&) override {}

 private:
  SearchSpace space_;
  std::uint64_t seed_;
  std::string name_;
};

}  // namespace cs::search
