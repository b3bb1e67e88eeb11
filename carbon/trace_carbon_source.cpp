// Trace parsing, validation and interpolation.
#include "carbon/trace_carbon_source.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <sstream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/text_file.hpp"
#include "base/utc_time.hpp"

namespace cs::carbon {

namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\"");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\"") - first + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// The header's value column must be an intensity in grams per kWh.
void check_header(const std::string& column, const std::string& path) {
  const std::string c = lower(column);
  const bool intensity = c.find("intensity") != std::string::npos || c.find("g_per_kwh") != std::string::npos ||
                         c.find("gco2") != std::string::npos;
  for (const char* wrong : {"kg", "lb", "mwh", "ton", "/wh"}) {
    if (c.find(wrong) != std::string::npos) {
      throw ConfigError(
          fmt::format("{}:1: the value column '{}' is not in gCO2/kWh; convert the trace to grams per "
                      "kWh",
                      path, column));
    }
  }
  if (!intensity) {
    throw ConfigError(
        fmt::format("{}:1: expected a header 'timestamp,<intensity in gCO2/kWh>' (e.g. 'Time,Carbon "
                    "Intensity'), got column '{}'",
                    path, column));
  }
}

}  // namespace

TraceCarbonSource::TraceCarbonSource(const std::string& path, Interpolation interpolation, Extrapolation extrapolation,
                                     double gap_tolerance_s)
    : interpolation_(interpolation), extrapolation_(extrapolation), name_(path) {
  std::istringstream in(read_text_file(path, "carbon-intensity trace"));
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty()) continue;
    const auto comma = line.find(',');
    if (comma == std::string::npos) {
      throw ConfigError(fmt::format("{}:{}: expected 'timestamp,intensity', got '{}'", path, number, trim(line)));
    }
    const std::string when = trim(line.substr(0, comma));
    const std::string value = trim(line.substr(comma + 1));
    if (number == 1) {
      check_header(value, path);
      continue;
    }
    TracePoint p;
    if (!parse_utc_timestamp(when, p.unix_s)) {
      throw ConfigError(fmt::format("{}:{}: '{}' is not a UTC time like 2020-01-31 23:30:00", path, number, when));
    }
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), p.intensity_g_per_kwh);
    if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(p.intensity_g_per_kwh)) {
      throw ConfigError(fmt::format("{}:{}: '{}' is not a number of gCO2/kWh", path, number, value));
    }
    if (p.intensity_g_per_kwh < 0) {
      throw ConfigError(fmt::format("{}:{}: negative intensity {}", path, number, p.intensity_g_per_kwh));
    }
    if (!points_.empty() && p.unix_s <= points_.back().unix_s) {
      throw ConfigError(
          fmt::format("{}:{}: time {} does not increase; sort the trace and remove duplicates", path, number, when));
    }
    points_.push_back(p);
  }
  if (points_.empty()) throw ConfigError(fmt::format("{}: the trace has no data rows", path));
  validate(gap_tolerance_s);
}

TraceCarbonSource::TraceCarbonSource(std::vector<TracePoint> points, Interpolation interpolation,
                                     Extrapolation extrapolation, std::string name, double gap_tolerance_s)
    : points_(std::move(points)), interpolation_(interpolation), extrapolation_(extrapolation), name_(std::move(name)) {
  if (points_.empty()) throw ConfigError(fmt::format("{}: the trace has no points", name_));
  for (std::size_t i = 0; i < points_.size(); ++i) {
    if (!(points_[i].intensity_g_per_kwh >= 0)) throw ConfigError(fmt::format("{}: point {} is negative", name_, i));
    if (i > 0 && points_[i].unix_s <= points_[i - 1].unix_s) {
      throw ConfigError(fmt::format("{}: point {} does not increase in time", name_, i));
    }
  }
  validate(gap_tolerance_s);
}

void TraceCarbonSource::validate(double gap_tolerance_s) {
  for (std::size_t i = 1; i < points_.size(); ++i) {
    if (points_[i].unix_s - points_[i - 1].unix_s > gap_tolerance_s) {
      gaps_.push_back({points_[i - 1].unix_s, points_[i].unix_s});
    }
  }
}

std::optional<double> TraceCarbonSource::intensity_g_per_kwh(double unix_s) const {
  if (unix_s < points_.front().unix_s || unix_s > points_.back().unix_s) {
    if (extrapolation_ == Extrapolation::kError) return std::nullopt;
    return unix_s < points_.front().unix_s ? points_.front().intensity_g_per_kwh : points_.back().intensity_g_per_kwh;
  }
  const auto next = std::upper_bound(points_.begin(), points_.end(), unix_s,
                                     [](double t, const TracePoint& p) { return t < p.unix_s; });
  if (next == points_.end()) return points_.back().intensity_g_per_kwh;
  const auto& b = *next;
  const auto& a = *(next - 1);
  if (interpolation_ == Interpolation::kStep) return a.intensity_g_per_kwh;
  const double w = (unix_s - a.unix_s) / (b.unix_s - a.unix_s);
  return a.intensity_g_per_kwh + w * (b.intensity_g_per_kwh - a.intensity_g_per_kwh);
}

std::string TraceCarbonSource::describe() const {
  return fmt::format("trace {} ({} points, {}, {} outside)", name_, points_.size(),
                     enum_name(kInterpolationNames, interpolation_), enum_name(kExtrapolationNames, extrapolation_));
}

}  // namespace cs::carbon
