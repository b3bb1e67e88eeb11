// Carbon-intensity traces (the real 2020 traces and broken ones) and the emissions integral.
#include "carbon/trace_carbon_source.hpp"
#include "carbon/emissions.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "base/error.hpp"
#include "base/utc_time.hpp"

namespace cs::carbon {
namespace {

namespace fs = std::filesystem;

double utc(const char* text) {
  double t = 0;
  EXPECT_TRUE(parse_utc_timestamp(text, t)) << text;
  return t;
}

TEST(CarbonTrace, ReadsTheReal2020GreatBritainTrace) {
  TraceCarbonSource gb(std::string(CS_TRACES_DIR) + "/gb_2020_ci.csv.gz", Interpolation::kLinear,
                       Extrapolation::kError);
  EXPECT_EQ(gb.points().size(), 21980u);
  EXPECT_DOUBLE_EQ(*gb.intensity_g_per_kwh(utc("2019-12-20 00:00:00")), 120.99546661944396);
  // Linear halfway between the first two half-hours.
  EXPECT_NEAR(*gb.intensity_g_per_kwh(utc("2019-12-20 00:15:00")), 0.5 * (120.99546661944396 + 135.08869637679902),
              1e-9);
  TraceCarbonSource step(std::string(CS_TRACES_DIR) + "/gb_2020_ci.csv.gz", Interpolation::kStep,
                         Extrapolation::kError);
  EXPECT_DOUBLE_EQ(*step.intensity_g_per_kwh(utc("2019-12-20 00:29:59")), 120.99546661944396);
  EXPECT_FALSE(gb.intensity_g_per_kwh(utc("2030-01-01 00:00:00")));  // outside: no value, not an error
  TraceCarbonSource hold(std::string(CS_TRACES_DIR) + "/fr_2020_ci.csv.gz", Interpolation::kLinear,
                         Extrapolation::kHold);
  EXPECT_DOUBLE_EQ(*hold.intensity_g_per_kwh(utc("2000-01-01 00:00:00")), 42.34123797146737);
}

TEST(CarbonTrace, ParsesIsoTimestampsAndRejectsOthers) {
  EXPECT_DOUBLE_EQ(utc("2020-06-01T00:00:00Z"), 1590969600.0);
  EXPECT_DOUBLE_EQ(utc("2020-06-01 00:00:00"), 1590969600.0);
  double t = 0;
  for (const char* bad : {"yesterday", "2020-13-01 00:00:00", "2020-06-01", "2020-06-01T00:00:00+02"}) {
    EXPECT_FALSE(parse_utc_timestamp(bad, t)) << bad;
  }
}

class BrokenTrace : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(BrokenTrace, NamesTheFileAndLine) {
  const fs::path path = fs::temp_directory_path() / ("cs-trace-" + std::to_string(getpid()) + ".csv");
  std::ofstream(path) << GetParam().first;
  try {
    TraceCarbonSource(path.string(), Interpolation::kLinear, Extrapolation::kError);
    ADD_FAILURE() << "accepted: " << GetParam().first;
  } catch (const ConfigError& e) {
    EXPECT_TRUE(std::regex_search(e.what(), std::regex(GetParam().second))) << e.what();
  }
  fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BrokenTrace,
    ::testing::Values(
        std::pair{std::string(""), std::string("no data rows")},
        std::pair{std::string("Time,Carbon Intensity\n"), std::string("no data rows")},
        std::pair{std::string("Time,Carbon Intensity\n2020-01-01 00:00:00,abc\n"),
                  std::string(":2: 'abc' is not a number")},
        std::pair{std::string("Time,Carbon Intensity\n2020-01-01 00:30:00,10\n2020-01-01 00:00:00,12\n"),
                  std::string(":3: time .* does not increase")},
        std::pair{std::string("Time,Carbon Intensity\n2020-01-01 00:00:00,10\n2020-01-01 00:00:00,12\n"),
                  std::string(":3: time")},
        std::pair{std::string("Time,Carbon Intensity\n2020-01-01 00:00:00,-4\n"), std::string(":2: negative")},
        std::pair{std::string("Time,Carbon Intensity (kg/MWh)\n2020-01-01 00:00:00,300\n"),
                  std::string(":1: .*not in gCO2/kWh")},
        std::pair{std::string("Time,Watts\n2020-01-01 00:00:00,300\n"), std::string(":1: expected a header")},
        std::pair{std::string("Time,Carbon Intensity\nnoon,300\n"), std::string(":2: 'noon' is not a UTC time")}));

TEST(CarbonTrace, ReadsPlainAndGzipTracesAlikeAndRefusesATruncatedGzip) {
  const fs::path dir = fs::temp_directory_path() / ("cs-gz-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string gz = std::string(CS_TRACES_DIR) + "/fr_2020_ci.csv.gz";
  std::ifstream in(gz, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "half.csv.gz", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  try {
    TraceCarbonSource((dir / "half.csv.gz").string(), Interpolation::kLinear, Extrapolation::kError);
    ADD_FAILURE() << "accepted half a gzip file";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(std::regex_search(e.what(), std::regex("half.csv.gz: .*(truncated|corrupt)"))) << e.what();
  }
  std::ofstream(dir / "plain.csv") << "Time,Carbon Intensity\n2020-01-01 00:00:00,10\n2020-01-01 00:30:00,30\n";
  TraceCarbonSource plain((dir / "plain.csv").string(), Interpolation::kLinear, Extrapolation::kError);
  EXPECT_DOUBLE_EQ(*plain.intensity_g_per_kwh(utc("2020-01-01 00:15:00")), 20.0);
  fs::remove_all(dir);
}

TEST(CarbonTrace, ReportsGapsBeyondTheTolerance) {
  TraceCarbonSource t({{0, 100}, {1800, 100}, {1800 + 6 * 3600, 50}}, Interpolation::kLinear, Extrapolation::kError,
                      "gappy");
  ASSERT_EQ(t.gaps().size(), 1u);
  EXPECT_DOUBLE_EQ(t.gaps()[0].from_unix_s, 1800);
}

/// A generated daily cycle (synthetic): 300 g/kWh at midnight falling linearly to 100 at noon.
TraceCarbonSource daily_cycle() {
  std::vector<TracePoint> points;
  for (int h = 0; h <= 48; h += 12) points.push_back({h * 3600.0, h % 24 == 0 ? 300.0 : 100.0});
  return TraceCarbonSource(points, Interpolation::kLinear, Extrapolation::kError, "synthetic daily cycle");
}

TEST(Emissions, IntegratesEachIntervalAgainstItsOwnIntensity) {
  const auto trace = daily_cycle();
  // Two hours: 1 kW from 0:00 to 1:00, then 3 kW from 1:00 to 2:00, PUE 1.5.
  const std::vector<PowerSample> samples{{3600, 0, 1000}, {7200, 0, 3000}};
  const double energy_j = 1000 * 3600 + 3000 * 3600;
  const auto e = *integrate_emissions(samples, Joules{energy_j}, 7200, 1.5, trace, 0.0);
  // Intensity at the midpoints 0:30 and 1:30: 300 - 200 x (t / 12 h).
  const double i1 = 300 - 200 * (0.5 / 12), i2 = 300 - 200 * (1.5 / 12);
  EXPECT_NEAR(e.co2_g, 1.5 * (1.0 * i1 + 3.0 * i2), 1e-9);
  EXPECT_NEAR(e.intensity_g_per_kwh, (1.0 * i1 + 3.0 * i2) / 4.0, 1e-9);
  EXPECT_DOUBLE_EQ(e.facility_energy.value, 1.5 * energy_j);
  // Mean power x mean intensity would give another (wrong) answer.
  EXPECT_GT(std::abs(e.co2_g - 1.5 * 4.0 * 0.5 * (i1 + i2)), 1.0);
}

TEST(Emissions, PricingTimeScalesReplayATraceInAShortRun) {
  const auto trace = daily_cycle();
  // One real second standing for one trace hour: a 12 s trial at constant power spans 0:00-12:00.
  std::vector<PowerSample> samples;
  for (int s = 1; s <= 12; ++s) samples.push_back({static_cast<double>(s), 0, 100.0});
  const auto e = *integrate_emissions(samples, Joules{1200}, 12, 1.0, trace, 0.0, 3600.0);
  EXPECT_NEAR(e.intensity_g_per_kwh, 200.0, 1e-9);  // the mean of a linear fall from 300 to 100
}

TEST(Emissions, WithoutSamplesTheTrialIsOneInterval) {
  const auto trace = daily_cycle();
  const auto e = *integrate_emissions({}, Joules{3.6e6}, 6 * 3600, 1.0, trace, 0.0);
  EXPECT_NEAR(e.co2_g, 300 - 200 * (3.0 / 12), 1e-9);
  EXPECT_NEAR(integrate_emissions({}, Joules{3.6e6}, 10, 2.0, ConstantCarbonSource(250), 0.0)->co2_g, 500.0, 1e-9);
}

}  // namespace
}  // namespace cs::carbon
