// Early stopping over per-epoch reports: the median-stopping rule and asynchronous successive halving (ASHA).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/enum_names.hpp"

namespace cs::search {

enum class PrunerKind { kNone, kMedian, kAsha };
inline constexpr std::array<EnumName<PrunerKind>, 3> kPrunerNames{
    {{PrunerKind::kNone, "none"}, {PrunerKind::kMedian, "median"}, {PrunerKind::kAsha, "asha"}}};

class Pruner {
 public:
  virtual ~Pruner() = default;
  /// Records the objective (maximised) of `trial` after `epoch` (from 1); true = stop it now.
  virtual bool should_stop(std::int64_t trial, int epoch, double objective) = 0;
};

/// Stops a trial whose best value so far is below the median of the other trials' values
/// at the same epoch, once `min_trials` have reported there and after `warmup_epochs`.
class MedianPruner final : public Pruner {
 public:
  MedianPruner(int warmup_epochs, int min_trials) : warmup_(warmup_epochs), min_trials_(min_trials) {}
  bool should_stop(std::int64_t trial, int epoch, double objective) override;

 private:
  int warmup_, min_trials_;
  std::map<int, std::vector<double>> at_epoch_;
  std::map<std::int64_t, double> best_;
};

/// Rungs at min_epochs x eta^k. A trial reaching a rung continues only if its value is in
/// the top 1/eta of the values recorded at that rung so far.
class AshaPruner final : public Pruner {
 public:
  AshaPruner(int min_epochs, int eta);
  bool should_stop(std::int64_t trial, int epoch, double objective) override;

 private:
  int min_epochs_, eta_;
  std::map<int, std::vector<double>> rungs_;
};

/// kNone gives nullptr.
std::unique_ptr<Pruner> make_pruner(PrunerKind kind, int warmup_epochs, int min_trials, int eta);

}  // namespace cs::search
