// Pareto fronts and hypervolume for "maximise the objective, minimise the cost" (e.g. accuracy vs energy).
#pragma once

#include <cstdint>
#include <vector>

namespace cs::search {

struct TradeOff {
  std::int64_t trial_id = 0;
  double objective = 0.0;  ///< maximised
  double cost = 0.0;       ///< minimised (J or g)
};

/// The non-dominated points, sorted by cost ascending (objective ascending along it).
std::vector<TradeOff> pareto_front(std::vector<TradeOff> points);

/// The area dominated by `front` and bounded by the reference point (objective_ref below
/// every objective, cost_ref above every cost). Points outside the box add nothing.
double hypervolume_2d(const std::vector<TradeOff>& front, double objective_ref, double cost_ref);

}  // namespace cs::search
