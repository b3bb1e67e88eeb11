// The external power log: parsing, exact integration, and malformed logs.
#include "energy/external_log_meter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"

namespace cs::energy {
namespace {

TEST(PowerLog, KeepsThisHostsRowsAndSkipsTheHeader) {
  const auto r = parse_power_log(
      "timestamp,host,watts\n2020-06-01 00:00:00,n1,100\n2020-06-01 00:00:00,n2,999\n1590969610,n1,200\n", "n1",
      "p.csv");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_DOUBLE_EQ(r[0].unix_s, 1590969600.0);
  EXPECT_DOUBLE_EQ(r[1].watts, 200.0);
}

TEST(PowerLog, IntegratesThePiecewiseLinearSeriesExactly) {
  const std::vector<PowerReading> r{{0, 100}, {10, 200}, {20, 200}};
  EXPECT_DOUBLE_EQ(integrate_power(r, 0, 20), 1500 + 2000);
  EXPECT_DOUBLE_EQ(integrate_power(r, 5, 15), 0.5 * (150 + 200) * 5 + 200 * 5);
  EXPECT_DOUBLE_EQ(integrate_power(r, 20, 30), 2000);  // the last reading is held
  EXPECT_DOUBLE_EQ(integrate_power({}, 0, 10), 0.0);
}

TEST(PowerLog, MalformedLogsNameTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"2020-06-01 00:00:00,n1\n", "p.csv:1: expected"},
      {"2020-06-01 00:00:00,n1,lots\n", "p.csv:1: 'lots' is not a number"},
      {"10,n1,5\nyesterday,n1,5\n", "p.csv:2: 'yesterday'"},
      {"10,n1,5\n20,n1,-1\n", "p.csv:2: negative"},
      {"20,n1,5\n10,n1,6\n", "p.csv:2: time does not increase"},
  };
  for (const auto& [text, expected] : cases) {
    try {
      parse_power_log(text, "n1", "p.csv");
      ADD_FAILURE() << text;
    } catch (const MeterError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

TEST(ExternalLogMeter, ReadsTheGrowingLogOnAVirtualClock) {
  const auto path = std::filesystem::temp_directory_path() / ("cs-power-" + std::to_string(getpid()) + ".csv");
  std::ofstream(path) << "timestamp,host,watts\n100,n1,50\n";
  double now = 100;
  ExternalLogMeter m(path.string(), "n1", [&] { return now; });
  ASSERT_TRUE(m.available()) << m.unavailable_reason();
  now = 110;
  std::ofstream(path, std::ios::app) << "110,n1,150\n";
  EXPECT_DOUBLE_EQ(m.read().value, 0.5 * (50 + 150) * 10);
  ExternalLogMeter other(path.string(), "n9");
  EXPECT_NE(other.unavailable_reason().find("no rows for host n9"), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_FALSE(m.available());
}

}  // namespace
}  // namespace cs::energy
