// Pareto front by a sort and a sweep; 2-D hypervolume as a sum of rectangles.
#include "search/pareto.hpp"

#include <algorithm>

namespace cs::search {

std::vector<TradeOff> pareto_front(std::vector<TradeOff> points) {
  std::sort(points.begin(), points.end(), [](const TradeOff& a, const TradeOff& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.objective > b.objective;
  });
  std::vector<TradeOff> front;
  for (const auto& p : points) {
    if (front.empty() || p.objective > front.back().objective) front.push_back(p);
  }
  return front;
}

double hypervolume_2d(const std::vector<TradeOff>& front, double objective_ref, double cost_ref) {
  // Walk from the most expensive point down: each point adds the strip of objective it
  // gains over the cheaper ones, over the cost range up to the reference.
  double volume = 0.0;
  double covered_objective = objective_ref;
  for (const auto& p : front) {  // cost ascending, objective ascending
    if (p.cost >= cost_ref || p.objective <= covered_objective) continue;
    volume += (p.objective - covered_objective) * (cost_ref - p.cost);
    covered_objective = p.objective;
  }
  return volume;
}

}  // namespace cs::search
