// The five placement policies.
#include "scheduling/placement.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "base/units.hpp"
#include "base/utc_time.hpp"
#include "carbon/emissions.hpp"

namespace cs::scheduling {

namespace {

double intensity_now(const SiteState& site, double now_unix_s) {
  // Outside its trace: least attractive, and never within a budget.
  return site.source->intensity_g_per_kwh(now_unix_s).value_or(std::numeric_limits<double>::infinity());
}

/// Idle workers ordered by the facility CO2 per kWh of their site now; ties keep idle order.
std::vector<IdleWorker> greenest_first(const PlacementContext& c) {
  std::vector<IdleWorker> order(c.idle.begin(), c.idle.end());
  std::stable_sort(order.begin(), order.end(), [&](const IdleWorker& a, const IdleWorker& b) {
    return intensity_now(c.sites[a.site], c.now_unix_s) * c.sites[a.site].pue <
           intensity_now(c.sites[b.site], c.now_unix_s) * c.sites[b.site].pue;
  });
  return order;
}

/// Dispatches the first `limit` of `workers`.
Placement ranks_of(std::span<const IdleWorker> workers, std::int64_t limit) {
  Placement p;
  for (const auto& w : workers) {
    if (static_cast<std::int64_t>(p.dispatch.size()) >= limit) break;
    p.dispatch.push_back(w.rank);
  }
  return p;
}

class Fifo final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) override { return ranks_of(c.idle, c.trials_left); }
  std::string describe() const override { return "fifo"; }
};

class RoundRobin final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) override {
    std::vector<std::vector<IdleWorker>> by_site(c.sites.size());
    for (const auto& w : c.idle) by_site[w.site].push_back(w);
    std::vector<IdleWorker> order;
    std::vector<std::size_t> taken(c.sites.size(), 0);
    while (order.size() < c.idle.size()) {
      const std::size_t s = next_site_++ % c.sites.size();
      if (taken[s] < by_site[s].size()) order.push_back(by_site[s][taken[s]++]);
    }
    return ranks_of(order, c.trials_left);
  }
  std::string describe() const override { return "round_robin"; }

 private:
  std::size_t next_site_ = 0;
};

class Greenest final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) override { return ranks_of(greenest_first(c), c.trials_left); }
  std::string describe() const override { return "greenest"; }
};

class Deferral final : public PlacementPolicy {
 public:
  explicit Deferral(PolicyOptions o) : o_(std::move(o)) {}

  Placement place(const PlacementContext& c) override {
    Placement p;
    const double duration_s = c.expected_duration_s;
    for (const auto& w : greenest_first(c)) {
      if (static_cast<std::int64_t>(p.dispatch.size()) >= c.trials_left) break;
      const auto& site = c.sites[w.site];
      // How long this worker may still wait: its max_delay, and never past the deadline.
      const double latest_start = std::min(w.idle_since_unix_s + o_.max_delay_s, o_.deadline_unix_s - duration_s);
      const double window_s = latest_start - c.now_unix_s;
      const auto now_mean = carbon::forecast_mean(o_.forecast, *site.source, c.now_unix_s, c.now_unix_s, duration_s);
      if (window_s <= 0.0 || !now_mean) {
        p.dispatch.push_back(w.rank);
        continue;
      }
      // The best start in the window, on a grid of at most 48 candidate starts (>= 5 minutes apart).
      const int steps = std::clamp(static_cast<int>(window_s / 300.0), 1, 48);
      double best = *now_mean, best_at = c.now_unix_s;
      for (int i = 1; i <= steps; ++i) {
        const double at = c.now_unix_s + window_s * i / steps;
        const auto mean = carbon::forecast_mean(o_.forecast, *site.source, c.now_unix_s, at, duration_s);
        if (mean && *mean < best) {
          best = *mean;
          best_at = at;
        }
      }
      if (best < *now_mean * (1.0 - o_.min_saving)) {
        p.review_at_unix_s = std::min(p.review_at_unix_s, std::min(best_at, latest_start));
      } else {
        p.dispatch.push_back(w.rank);
      }
    }
    return p;
  }
  std::string describe() const override {
    return fmt::format("deferral (forecast {}, max_delay {:.0f} s, min_saving {}, deadline {})",
                       carbon::to_string(o_.forecast), o_.max_delay_s, o_.min_saving,
                       std::isfinite(o_.deadline_unix_s) ? format_utc_timestamp(o_.deadline_unix_s) : "none");
  }

 private:
  PolicyOptions o_;
};

class CarbonBudget final : public PlacementPolicy {
 public:
  explicit CarbonBudget(double budget_g) : budget_g_(budget_g) {}
  Placement place(const PlacementContext& c) override {
    Placement p;
    double committed = c.co2_committed_g;
    for (const auto& w : greenest_first(c)) {
      if (static_cast<std::int64_t>(p.dispatch.size()) >= c.trials_left) break;
      const auto& site = c.sites[w.site];
      const double expected = carbon::co2_g(Joules{c.expected_energy_j}, site.pue, intensity_now(site, c.now_unix_s));
      if (committed + expected > budget_g_) {
        p.stop = true;
        p.stop_reason = fmt::format(
            "carbon budget: {:.4g} gCO2 committed, and one more trial is expected to take {:.4g} g of the {:.4g} g "
            "budget",
            committed, expected, budget_g_);
        break;
      }
      committed += expected;
      p.dispatch.push_back(w.rank);
    }
    return p;
  }
  std::string describe() const override { return fmt::format("carbon_budget ({} gCO2, greenest first)", budget_g_); }

 private:
  double budget_g_;
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_policy(const PolicyOptions& o) {
  switch (o.kind) {
    case study::PolicyKind::kFifo: return std::make_unique<Fifo>();
    case study::PolicyKind::kRoundRobin: return std::make_unique<RoundRobin>();
    case study::PolicyKind::kGreenest: return std::make_unique<Greenest>();
    case study::PolicyKind::kDeferral:
      if (!(o.max_delay_s > 0.0)) throw ConfigError("policy deferral needs max_delay (e.g. \"6h\")");
      return std::make_unique<Deferral>(o);
    case study::PolicyKind::kCarbonBudget:
      if (!(o.budget_g_co2 > 0.0)) throw ConfigError("policy carbon_budget needs budget_g_co2 > 0");
      return std::make_unique<CarbonBudget>(o.budget_g_co2);
  }
  throw ConfigError("unknown placement policy");
}

StudyPlacement make_study_placement(const study::StudyConfig& config, double start_unix_s) {
  StudyPlacement p;
  for (const auto& site : config.sites) {
    p.sources.push_back(site.carbon);
    p.sites.push_back({site.name, site.pue, p.sources.back().get()});
  }
  const auto& s = config.scheduling;
  PolicyOptions o;
  o.kind = s.policy;
  o.forecast = s.forecast;
  o.max_delay_s = s.max_delay_s;
  o.min_saving = s.min_saving;
  if (s.deadline_s) o.deadline_unix_s = start_unix_s + *s.deadline_s;
  o.budget_g_co2 = s.budget_g_co2;
  p.policy = make_policy(o);
  p.forecast = s.policy == study::PolicyKind::kDeferral ? std::string(carbon::to_string(s.forecast)) : "none";
  return p;
}

}  // namespace cs::scheduling
