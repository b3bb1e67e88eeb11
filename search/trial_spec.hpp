// What the coordinator hands to a worker, and what a sampler learns back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/enum_names.hpp"
#include "search/space.hpp"

namespace cs::search {

struct TrialSpec {
  std::int64_t id = 0;  ///< global trial index within the study, from 0
  std::string arm;      ///< which strategy proposed it
  std::vector<Param> params;
  friend bool operator==(const TrialSpec&, const TrialSpec&) = default;
};

/// kTimeout: stopped at [faults] trial_timeout; kInterrupted: stopped by a signal, run again by --resume.
enum class TrialStatus { kCompleted, kFailed, kDiverged, kPruned, kTimeout, kInterrupted };
inline constexpr std::array<EnumName<TrialStatus>, 6> kTrialStatusNames{{{TrialStatus::kCompleted, "completed"},
                                                                         {TrialStatus::kFailed, "failed"},
                                                                         {TrialStatus::kDiverged, "diverged"},
                                                                         {TrialStatus::kPruned, "pruned"},
                                                                         {TrialStatus::kTimeout, "timeout"},
                                                                         {TrialStatus::kInterrupted, "interrupted"}}};

inline std::string_view to_string(TrialStatus status) { return enum_name(kTrialStatusNames, status); }

/// A trial that produced no usable objective: failed, diverged or over its time limit.
inline bool is_failure(TrialStatus status) {
  return status == TrialStatus::kFailed || status == TrialStatus::kDiverged || status == TrialStatus::kTimeout;
}

struct Observation {
  TrialSpec spec;
  TrialStatus status = TrialStatus::kCompleted;
  double objective = 0.0;  ///< the value the arm maximises (e.g. validation accuracy)
  double energy_j = 0.0;
  double co2_g = 0.0;
};

}  // namespace cs::search
