// Grid axes from the space, and the mixed-radix walk over their product.
#include "search/grid_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::search {

namespace {
std::vector<ParamValue> axis_of(const ParamSpec& p, int resolution) {
  if (p.kind == ParamKind::kCategorical) return p.choices;
  std::vector<ParamValue> axis;
  const auto n = static_cast<std::size_t>(resolution);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = n == 1 ? 0.5 : static_cast<double>(i) / static_cast<double>(n - 1);
    double v =
        p.log ? std::exp(std::log(p.low) + t * (std::log(p.high) - std::log(p.low))) : p.low + t * (p.high - p.low);
    if (i == 0 && n > 1) v = p.low;  // exact end points, free of rounding in log space
    if (i == n - 1 && n > 1) v = p.high;
    if (p.kind == ParamKind::kInt) {
      const auto iv = static_cast<std::int64_t>(std::llround(v));
      if (axis.empty() || std::get<std::int64_t>(axis.back()) != iv) axis.emplace_back(iv);
    } else {
      axis.emplace_back(v);
    }
  }
  return axis;
}
}  // namespace

std::uint64_t grid_points(const SearchSpace& space, int resolution) {
  if (resolution < 1 || resolution > kMaxGridResolution) {
    throw ConfigError(
        fmt::format("grid resolution must be an integer in [1, {}], got {}", kMaxGridResolution, resolution));
  }
  std::uint64_t total = 1;
  for (const auto& p : space.params()) {
    const auto n = static_cast<std::uint64_t>(axis_of(p, resolution).size());
    total = n != 0 && total > UINT64_MAX / n ? UINT64_MAX : total * n;
  }
  return total;
}

GridSampler::GridSampler(SearchSpace space, int resolution, bool shuffle, std::uint64_t seed, std::string name)
    : space_(std::move(space)), name_(name.empty() ? (shuffle ? "sampled_grid" : "grid") : std::move(name)) {
  const auto points = grid_points(space_, resolution);
  if (points > kMaxGridPoints) {
    throw ConfigError(
        fmt::format("the grid has {} points, more than {}: lower the resolution", points, kMaxGridPoints));
  }
  std::size_t total = 1;
  for (const auto& p : space_.params()) {
    axes_.push_back(axis_of(p, resolution));
    total *= axes_.back().size();
  }
  order_.resize(total);
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (shuffle) {
    // Fisher-Yates with the counter-based generator: the order depends on the seed only.
    for (std::size_t i = total; i > 1; --i) {
      const auto j = static_cast<std::size_t>(counter_uniform(seed, 0x67726964, i) * static_cast<double>(i));
      std::swap(order_[i - 1], order_[std::min(j, i - 1)]);
    }
  }
}

std::optional<TrialSpec> GridSampler::suggest(std::int64_t trial_id, std::span<const TrialSpec>) {
  if (trial_id < 0 || static_cast<std::size_t>(trial_id) >= order_.size()) return std::nullopt;
  std::size_t cell = order_[static_cast<std::size_t>(trial_id)];
  TrialSpec spec{.id = trial_id, .arm = name(), .params = {}};
  for (std::size_t k = 0; k < axes_.size(); ++k) {
    spec.params.push_back({space_.params()[k].name, axes_[k][cell % axes_[k].size()]});
    cell /= axes_[k].size();
  }
  return spec;
}

}  // namespace cs::search
