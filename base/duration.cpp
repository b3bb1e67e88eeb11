// Duration parsing for the study file.
#include "base/duration.hpp"

#include <charconv>
#include <cmath>
#include <string>
#include <utility>

namespace cs {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, bool allow_zero) {
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || !std::isfinite(value) || value < 0.0 || (value == 0.0 && !allow_zero)) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double ms_per_unit = 0.0;
  if (unit == "ms")
    ms_per_unit = 1.0;
  else if (unit == "s")
    ms_per_unit = 1e3;
  else if (unit == "min")
    ms_per_unit = 60e3;
  else if (unit == "h")
    ms_per_unit = 3600e3;
  else if (unit == "d")
    ms_per_unit = 86400e3;
  else
    return std::nullopt;
  const double ms = std::round(value * ms_per_unit);
  if (ms < 1.0 && value != 0.0) return std::nullopt;  // under a millisecond, but not zero
  if (ms > 1e15) return std::nullopt;                 // beyond 30,000 years: a typo, and no int64 fits it

  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::string format_duration(std::chrono::milliseconds duration) {
  constexpr std::pair<std::int64_t, const char*> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "min"}, {1'000, "s"}};
  const std::int64_t ms = duration.count();
  for (const auto& [per_unit, unit] : kUnits) {
    if (ms != 0 && ms % per_unit == 0) return std::to_string(ms / per_unit) + unit;
  }
  return std::to_string(ms) + "ms";
}

}  // namespace cs
