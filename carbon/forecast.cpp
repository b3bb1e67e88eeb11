// Oracle, persistence and day-ahead forecasts over any carbon source.
#include "carbon/forecast.hpp"

#include <cmath>

namespace cs::carbon {

namespace {
constexpr double kDay_s = 86400.0;

}  // namespace

std::optional<double> forecast_intensity(ForecastKind kind, const CarbonSource& source, double now_unix_s,
                                         double at_unix_s) {
  switch (kind) {
    case ForecastKind::kOracle: return source.intensity_g_per_kwh(at_unix_s);
    case ForecastKind::kPersistence: return source.intensity_g_per_kwh(now_unix_s);
    case ForecastKind::kDayAhead: {
      const double days = at_unix_s > now_unix_s ? std::ceil((at_unix_s - now_unix_s) / kDay_s) : 0.0;
      return source.intensity_g_per_kwh(at_unix_s - days * kDay_s);
    }
  }
  return std::nullopt;
}

std::optional<double> forecast_mean(ForecastKind kind, const CarbonSource& source, double now_unix_s,
                                    double from_unix_s, double duration_s, int steps) {
  if (!(duration_s > 0.0)) return forecast_intensity(kind, source, now_unix_s, from_unix_s);
  double sum = 0.0;
  for (int i = 0; i < steps; ++i) {
    const auto v = forecast_intensity(kind, source, now_unix_s, from_unix_s + (i + 0.5) * duration_s / steps);
    if (!v) return std::nullopt;
    sum += *v;
  }
  return sum / steps;
}

}  // namespace cs::carbon
