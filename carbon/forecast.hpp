// Forecasts of carbon intensity for scheduling: the oracle (the trace itself, an upper bound on
// what foresight can give) and realistic ones built only from history.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/enum_names.hpp"
#include "carbon/carbon_source.hpp"

namespace cs::carbon {

enum class ForecastKind { kOracle, kPersistence, kDayAhead };
inline constexpr std::array<EnumName<ForecastKind>, 3> kForecastNames{{{ForecastKind::kOracle, "oracle"},
                                                                       {ForecastKind::kPersistence, "persistence"},
                                                                       {ForecastKind::kDayAhead, "day_ahead"}}};
inline std::string_view to_string(ForecastKind kind) { return enum_name(kForecastNames, kind); }

/// What the intensity at `at_unix_s` is expected to be, seen from `now_unix_s`:
/// - oracle: the source's value at `at` (perfect foresight);
/// - persistence: the value now, for every future time;
/// - day_ahead: the value at the same time of day on the latest day already seen
///   (`at` minus whole days, until it is not after `now`).
/// nullopt where the source has no value (outside a trace that does not extrapolate).
std::optional<double> forecast_intensity(ForecastKind kind, const CarbonSource& source, double now_unix_s,
                                         double at_unix_s);

/// The mean forecast intensity over [from, from + duration_s], from `steps` midpoints.
std::optional<double> forecast_mean(ForecastKind kind, const CarbonSource& source, double now_unix_s,
                                    double from_unix_s, double duration_s, int steps = 8);

}  // namespace cs::carbon
