// Durations need explicit units.
#include "base/duration.hpp"

#include <gtest/gtest.h>

namespace cs {
namespace {

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(parse_duration("100ms")->count(), 100);
  EXPECT_EQ(parse_duration("2s")->count(), 2000);
  EXPECT_EQ(parse_duration("1.5min")->count(), 90000);
  EXPECT_EQ(parse_duration("6h")->count(), 6 * 3600 * 1000);
  EXPECT_EQ(parse_duration("1d")->count(), 86400 * 1000);
}

TEST(Duration, RejectsMissingUnitsZeroAndNegative) {
  for (const char* bad : {"100", "0ms", "-5s", "abc", "5 s", "5parsecs", "", "0.1ms"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Duration, ZeroOnlyWhereAllowed) {
  EXPECT_FALSE(parse_duration("0s").has_value());
  EXPECT_EQ(parse_duration("0s", true)->count(), 0);
  EXPECT_EQ(parse_duration("0ms", true)->count(), 0);
  EXPECT_FALSE(parse_duration("-1s", true).has_value());
  EXPECT_FALSE(parse_duration("1e300d").has_value());
}

TEST(Duration, FormatsInTheLargestWholeUnitAndReadsBack) {
  using std::chrono::milliseconds;
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(7'200'000)), "2h");
  EXPECT_EQ(format_duration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(2'592'000'000)), "30d");
  for (const std::int64_t ms : {1, 999, 60'000, 61'000, 86'400'000}) {
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms)))->count(), ms);
  }
}
}  // namespace
}  // namespace cs
