// Placement policies: which idle workers get a trial now, and which wait for greener power.
#pragma once

#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "carbon/carbon_source.hpp"
#include "carbon/forecast.hpp"
#include "study/study_config.hpp"

namespace cs::scheduling {

struct SiteState {
  std::string name;
  double pue = 1.0;
  const carbon::CarbonSource* source = nullptr;  ///< actual intensity (what trials are priced at)
};

struct IdleWorker {
  int rank = 0;
  std::size_t site = 0;            ///< index into PlacementContext::sites
  double idle_since_unix_s = 0.0;  ///< clock time the worker became idle
};

/// A view of the coordinator's state at one decision (nothing is copied: it is made per batch).
struct PlacementContext {
  double now_unix_s = 0.0;
  std::span<const IdleWorker> idle;  ///< in the order they became idle
  std::span<const SiteState> sites;
  std::int64_t trials_left = 0;  ///< not yet dispatched
  /// From the trials finished so far (0 before any): what one more trial is expected to take.
  double expected_duration_s = 0.0;
  double expected_energy_j = 0.0;
  double co2_committed_g = 0.0;  ///< finished trials' CO2 plus the expected CO2 of running ones
};

struct Placement {
  std::vector<int> dispatch;  ///< ranks that get a trial now, in order
  bool stop = false;          ///< after `dispatch`, start nothing more, ever (carbon budget reached)
  std::string stop_reason;
  /// When the policy wants to be asked again although nothing happened (a deferral ends).
  double review_at_unix_s = std::numeric_limits<double>::infinity();
};

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual Placement place(const PlacementContext& context) = 0;
  /// For the results file: the policy and its parameters.
  virtual std::string describe() const = 0;
};

struct PolicyOptions {
  study::PolicyKind kind = study::PolicyKind::kFifo;
  carbon::ForecastKind forecast = carbon::ForecastKind::kDayAhead;
  double max_delay_s = 0.0;  ///< deferral: longest a worker waits for a greener window
  double min_saving = 0.1;   ///< deferral: wait only for a window at least this much greener
  double deadline_unix_s = std::numeric_limits<double>::infinity();  ///< no trial starts too late to end by it
  double budget_g_co2 = 0.0;                                         ///< carbon_budget
};

/// Throws ConfigError for an unknown name or a missing parameter.
std::unique_ptr<PlacementPolicy> make_policy(const PolicyOptions& options);

/// What the coordinator needs to place a study's trials: its sites' carbon sources and policy.
struct StudyPlacement {
  std::vector<std::shared_ptr<const carbon::CarbonSource>> sources;  ///< owned here; sites point into them
  std::vector<SiteState> sites;
  std::unique_ptr<PlacementPolicy> policy;
  std::string forecast;  ///< "none" for policies that do not look ahead
};

/// From [scheduling] and [[sites]]; the deadline counts from `start_unix_s` (pricing time).
StudyPlacement make_study_placement(const study::StudyConfig& config, double start_unix_s);

}  // namespace cs::scheduling
