// Grid search: the full factorial in a fixed order, or a seeded draw from it without replacement.
#pragma once

#include <cstdint>
#include <vector>

#include "search/sampler.hpp"

namespace cs::search {

/// Bounds a grid must keep: values per axis, and points in all (the visiting order is held in
/// memory, 8 bytes a point).
inline constexpr int kMaxGridResolution = 10'000;
inline constexpr std::uint64_t kMaxGridPoints = 10'000'000;

/// The number of points of the grid over `space` at `resolution` (saturating), without
/// building it. Throws ConfigError for a resolution outside [1, kMaxGridResolution].
std::uint64_t grid_points(const SearchSpace& space, int resolution);

class GridSampler final : public Sampler {
 public:
  /// `resolution` values per float or int parameter (fewer when an int range is smaller);
  /// every choice of a categorical. With `shuffle`, the grid is visited in a seeded order.
  GridSampler(SearchSpace space, int resolution, bool shuffle, std::uint64_t seed, std::string name = "");
  std::string name() const override { return name_; }
  std::optional<TrialSpec> suggest(std::int64_t trial_id, std::span<const TrialSpec> pending) override;
  void observe(const Observation&) override {}

  std::size_t grid_size() const { return order_.size(); }

 private:
  SearchSpace space_;
  std::vector<std::vector<ParamValue>> axes_;
  std::vector<std::size_t> order_;
  std::string name_;
};

}  // namespace cs::search
