// Pruning rules.
#include "search/pruner.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/order_statistics.hpp"

namespace cs::search {

bool MedianPruner::should_stop(std::int64_t trial, int epoch, double objective) {
  auto& best = best_.try_emplace(trial, objective).first->second;
  best = std::max(best, objective);
  auto& others = at_epoch_[epoch];
  const bool stop = epoch > warmup_ && static_cast<int>(others.size()) >= min_trials_ && best < median(others);
  others.push_back(objective);
  return stop;
}

AshaPruner::AshaPruner(int min_epochs, int eta) : min_epochs_(min_epochs), eta_(eta) {
  if (min_epochs < 1 || eta < 2) throw ConfigError("ASHA needs min_epochs >= 1 and eta >= 2");
}

bool AshaPruner::should_stop(std::int64_t, int epoch, double objective) {
  int rung = min_epochs_;
  while (rung < epoch) rung *= eta_;
  if (rung != epoch) return false;  // not at a rung
  auto& values = rungs_[rung];
  values.push_back(objective);
  const auto keep = std::max<std::size_t>(1, values.size() / static_cast<std::size_t>(eta_));
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  return values.size() >= static_cast<std::size_t>(eta_) && objective < sorted[keep - 1];
}

std::unique_ptr<Pruner> make_pruner(PrunerKind kind, int warmup_epochs, int min_trials, int eta) {
  switch (kind) {
    case PrunerKind::kNone: return nullptr;
    case PrunerKind::kMedian: return std::make_unique<MedianPruner>(warmup_epochs, min_trials);
    case PrunerKind::kAsha: return std::make_unique<AshaPruner>(std::max(1, warmup_epochs), eta);
  }
  return nullptr;
}

}  // namespace cs::search
