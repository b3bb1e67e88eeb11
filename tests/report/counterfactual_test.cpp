// Re-pricing a sweep from its results alone, against values worked out by hand.
#include "report/counterfactual.hpp"

#include <gtest/gtest.h>

#include "carbon/trace_carbon_source.hpp"

namespace cs::report {
namespace {

/// Two trials: 1 kWh over an hour with no samples, priced from t = 0; and 2 kWh over an hour
/// at a constant 2 kW sampled twice, priced from t = 3600 s.
io::LoadedResults two_trials() {
  io::LoadedResults results;
  io::TrialResult first;
  first.energy_j = 3.6e6;
  first.start_unix_s = 0.0;
  first.end_unix_s = 3600.0;
  first.priced_from_unix_s = 0.0;
  io::TrialResult second = first;
  second.energy_j = 7.2e6;
  second.priced_from_unix_s = 3600.0;
  second.samples = {{1800.0, 0, 2000.0}, {3600.0, 0, 2000.0}};
  results.trials = {first, second};
  return results;
}

// A linear trace from 100 g/kWh at t = 0 to 300 at t = 7200 s, held beyond its ends.
const carbon::TraceCarbonSource kRamp({{0.0, 100.0}, {7200.0, 300.0}}, carbon::Interpolation::kLinear,
                                      carbon::Extrapolation::kHold, "ramp");

TEST(Counterfactual, RepricesEachTrialOverItsOwnPowerSeries) {
  const auto results = two_trials();
  const auto primary = primary_series(results);
  ASSERT_EQ(primary[1].size(), 2u);
  const auto e = reprice(results, primary, kRamp, 1.5, 0.0);
  // First: one interval, midpoint t = 1800 s: 150 g/kWh x 1 kWh x 1.5 = 225 g.
  // Second: midpoints 3600 + 900 and 3600 + 2700 s: 225 and 275 g/kWh, 1 kWh each, x 1.5 = 750 g.
  EXPECT_NEAR(e.co2_g, 225.0 + 750.0, 1e-9);
  EXPECT_NEAR(e.facility_energy.value, 1.5 * 3 * 3.6e6, 1e-6);
  EXPECT_NEAR(e.intensity_g_per_kwh, (225.0 + 750.0) / 4.5, 1e-9);  // facility-energy weighted
}

TEST(Counterfactual, AShiftMovesEveryTrialAlongTheTrace) {
  const auto results = two_trials();
  const auto e = reprice(results, primary_series(results), kRamp, 1.0, 3600.0);
  // First: midpoint 5400 s: 250 g. Second: 8100 and 9900 s, beyond the trace: held at 300, x 2 kWh.
  EXPECT_NEAR(e.co2_g, 250.0 + 600.0, 1e-9);
}

}  // namespace
}  // namespace cs::report
