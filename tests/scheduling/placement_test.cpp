// Each placement policy's decisions on small hand-made cases, and the forecasts they use.
#include "scheduling/placement.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "base/error.hpp"
#include "carbon/forecast.hpp"
#include "carbon/trace_carbon_source.hpp"

namespace cs::scheduling {
namespace {

constexpr double kHour = 3600.0;
constexpr double kT0 = 1'590'969'600.0;  // 2020-06-01T00:00:00Z

/// A generated (synthetic) daily cycle: 300 g/kWh at midnight, 100 at noon, hourly points over 4 days.
carbon::TraceCarbonSource daily_cycle() {
  std::vector<carbon::TracePoint> points;
  for (int h = -48; h <= 96; ++h) {
    points.push_back({kT0 + h * kHour, 200.0 + 100.0 * std::cos(2.0 * std::numbers::pi * h / 24.0)});
  }
  return {points, carbon::Interpolation::kLinear, carbon::Extrapolation::kError, "synthetic daily cycle"};
}

struct Fixture : ::testing::Test {
  carbon::ConstantCarbonSource clean{50.0}, dirty{500.0}, middle{200.0};
  carbon::TraceCarbonSource cycle = daily_cycle();

  std::vector<SiteState> sites{
      {"dirty", 1.0, &dirty}, {"clean", 1.0, &clean}, {"middle", 1.0, &middle}, {"cycle", 1.0, &cycle}};
  std::vector<IdleWorker> idle;

  /// A context over these sites and `idle_workers` (kept in the fixture: the context is a view).
  PlacementContext context(std::vector<IdleWorker> idle_workers, std::int64_t trials_left = 100) {
    idle = std::move(idle_workers);
    PlacementContext c;
    c.now_unix_s = kT0;
    c.idle = idle;
    c.sites = sites;
    c.trials_left = trials_left;
    c.expected_duration_s = kHour;
    c.expected_energy_j = 3.6e6;  // 1 kWh
    return c;
  }
};

TEST_F(Fixture, FifoDispatchesIdleWorkersInOrderUpToTheTrialsLeft) {
  auto fifo = make_policy({});
  EXPECT_EQ(fifo->place(context({{3, 0, kT0}, {1, 1, kT0}, {2, 2, kT0}})).dispatch, (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(fifo->place(context({{3, 0, kT0}, {1, 1, kT0}, {2, 2, kT0}}, 2)).dispatch, (std::vector<int>{3, 1}));
}

TEST_F(Fixture, RoundRobinTakesTheSitesInTurn) {
  PolicyOptions o;
  o.kind = study::PolicyKind::kRoundRobin;
  auto rr = make_policy(o);
  // Three idle at site 0, one at site 1: the order alternates while both sites have workers.
  EXPECT_EQ(rr->place(context({{1, 0, kT0}, {2, 0, kT0}, {3, 0, kT0}, {4, 1, kT0}})).dispatch,
            (std::vector<int>{1, 4, 2, 3}));
  // The turn carries over to the next decision: site 0 had the last turn... site 1 and 2 come next.
  EXPECT_EQ(rr->place(context({{5, 0, kT0}, {6, 2, kT0}}, 1)).dispatch, (std::vector<int>{6}));
}

TEST_F(Fixture, GreenestPrefersTheLowestIntensityTimesPue) {
  PolicyOptions o;
  o.kind = study::PolicyKind::kGreenest;
  auto greenest = make_policy(o);
  EXPECT_EQ(greenest->place(context({{1, 0, kT0}, {2, 2, kT0}, {3, 1, kT0}}, 1)).dispatch, (std::vector<int>{3}));
  sites[1].pue = 5.0;  // 50 x 5 = 250 > 200 x 1
  EXPECT_EQ(greenest->place(context({{1, 0, kT0}, {2, 2, kT0}, {3, 1, kT0}})).dispatch, (std::vector<int>{2, 3, 1}));
}

PolicyOptions deferral(carbon::ForecastKind forecast, double max_delay_s) {
  PolicyOptions o;
  o.kind = study::PolicyKind::kDeferral;
  o.forecast = forecast;
  o.max_delay_s = max_delay_s;
  o.min_saving = 0.1;
  return o;
}

TEST_F(Fixture, DeferralWaitsForAGreenerWindowWithinMaxDelay) {
  // At midnight the cycle is at its peak (300); noon (100) is 12 h away.
  auto wait_long = make_policy(deferral(carbon::ForecastKind::kOracle, 12 * kHour));
  const auto held = wait_long->place(context({{7, 3, kT0}}));
  EXPECT_TRUE(held.dispatch.empty());
  EXPECT_NEAR(held.review_at_unix_s, kT0 + 11.5 * kHour, 0.5 * kHour);  // the 1 h trial centred on noon
  // One hour of patience finds nothing 10% greener: dispatch now.
  EXPECT_EQ(make_policy(deferral(carbon::ForecastKind::kOracle, 0.5 * kHour))->place(context({{7, 3, kT0}})).dispatch,
            (std::vector<int>{7}));
  // A worker idle since max_delay ago goes now, however green the future.
  EXPECT_EQ(wait_long->place(context({{7, 3, kT0 - 12 * kHour}})).dispatch, (std::vector<int>{7}));
  // Constant sites never wait.
  EXPECT_EQ(wait_long->place(context({{1, 0, kT0}})).dispatch, (std::vector<int>{1}));
}

TEST_F(Fixture, DeferralRespectsTheDeadline) {
  auto o = deferral(carbon::ForecastKind::kOracle, 12 * kHour);
  o.deadline_unix_s = kT0 + 1.5 * kHour;  // a 1 h trial must start within 30 minutes
  EXPECT_EQ(make_policy(o)->place(context({{7, 3, kT0}})).dispatch, (std::vector<int>{7}));
  o.deadline_unix_s = kT0 + 24 * kHour;
  EXPECT_TRUE(make_policy(o)->place(context({{7, 3, kT0}})).dispatch.empty());
}

TEST_F(Fixture, RealisticForecastsSeeOnlyThePast) {
  // Persistence expects the present forever: never a greener window, never a deferral.
  EXPECT_EQ(
      make_policy(deferral(carbon::ForecastKind::kPersistence, 12 * kHour))->place(context({{7, 3, kT0}})).dispatch,
      (std::vector<int>{7}));
  // The cycle repeats daily, so yesterday's noon predicts today's: day-ahead defers like the oracle.
  EXPECT_TRUE(make_policy(deferral(carbon::ForecastKind::kDayAhead, 12 * kHour))
                  ->place(context({{7, 3, kT0}}))
                  .dispatch.empty());
  EXPECT_DOUBLE_EQ(*carbon::forecast_intensity(carbon::ForecastKind::kDayAhead, cycle, kT0, kT0 + 30 * kHour),
                   *cycle.intensity_g_per_kwh(kT0 - 18 * kHour));
  EXPECT_DOUBLE_EQ(*carbon::forecast_intensity(carbon::ForecastKind::kPersistence, cycle, kT0, kT0 + 5 * kHour), 300.0);
  EXPECT_FALSE(carbon::forecast_intensity(carbon::ForecastKind::kOracle, cycle, kT0, kT0 + 200 * kHour));
}

TEST_F(Fixture, CarbonBudgetStopsBeforeTheBudgetWouldBeExceeded) {
  PolicyOptions o;
  o.kind = study::PolicyKind::kCarbonBudget;
  o.budget_g_co2 = 1000.0;
  auto budget = make_policy(o);
  auto c = context({{1, 0, kT0}, {2, 1, kT0}, {3, 2, kT0}});
  c.co2_committed_g = 700.0;  // one more trial: clean 50 g, middle 200 g, dirty 500 g
  const auto p = budget->place(c);
  EXPECT_EQ(p.dispatch, (std::vector<int>{2, 3}));  // 700 + 50 + 200 = 950; + 500 would exceed
  EXPECT_TRUE(p.stop);
  EXPECT_NE(p.stop_reason.find("carbon budget"), std::string::npos);
  c.co2_committed_g = 0.0;
  EXPECT_FALSE(budget->place(c).stop);
}

TEST(PlacementPolicy, MissingParametersAreConfigErrors) {
  PolicyOptions o;
  o.kind = study::PolicyKind::kDeferral;
  EXPECT_THROW(make_policy(o), ConfigError);
  o.kind = study::PolicyKind::kCarbonBudget;
  EXPECT_THROW(make_policy(o), ConfigError);
}

}  // namespace
}  // namespace cs::scheduling
