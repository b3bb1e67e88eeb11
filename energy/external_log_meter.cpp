// External power log parsing and integration.
#include "energy/external_log_meter.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/utc_time.hpp"

namespace cs::energy {

namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  return first == std::string::npos ? "" : s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool parse_number(const std::string& text, double& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() && std::isfinite(value);
}

}  // namespace

std::vector<PowerReading> parse_power_log(const std::string& text, const std::string& host, const std::string& path) {
  std::istringstream in(text);
  std::string line;
  std::vector<PowerReading> out;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(trim(cell));
    double unused = 0;
    if (number == 1 && !cells.empty() && !parse_utc_timestamp(cells[0], unused) && !parse_number(cells[0], unused)) {
      continue;  // a header such as "timestamp,host,watts"
    }
    if (cells.size() != 3) throw MeterError(fmt::format("{}:{}: expected 'timestamp,host,watts'", path, number));
    if (cells[1] != host) continue;
    PowerReading r;
    if (!parse_utc_timestamp(cells[0], r.unix_s) && !parse_number(cells[0], r.unix_s)) {
      throw MeterError(fmt::format("{}:{}: '{}' is not a UTC time or unix seconds", path, number, cells[0]));
    }
    if (!parse_number(cells[2], r.watts)) {
      throw MeterError(fmt::format("{}:{}: '{}' is not a number of watts", path, number, cells[2]));
    }
    if (r.watts < 0) throw MeterError(fmt::format("{}:{}: negative power {} W", path, number, r.watts));
    if (!out.empty() && r.unix_s <= out.back().unix_s) {
      throw MeterError(fmt::format("{}:{}: time does not increase for host {}", path, number, host));
    }
    out.push_back(r);
  }
  return out;
}

double integrate_power(const std::vector<PowerReading>& readings, double from, double to) {
  if (readings.empty() || to <= from) return 0.0;
  const auto power_at = [&](double t) {
    if (t <= readings.front().unix_s) return readings.front().watts;
    if (t >= readings.back().unix_s) return readings.back().watts;
    const auto next = std::upper_bound(readings.begin(), readings.end(), t,
                                       [](double x, const PowerReading& r) { return x < r.unix_s; });
    const auto& a = *(next - 1);
    return a.watts + (t - a.unix_s) / (next->unix_s - a.unix_s) * (next->watts - a.watts);
  };
  // Trapezoids between `from`, every reading inside (from, to), and `to`: exact for the
  // piecewise-linear series.
  double energy = 0.0, t = from, p = power_at(from);
  for (const auto& r : readings) {
    if (r.unix_s <= from || r.unix_s >= to) continue;
    energy += 0.5 * (p + r.watts) * (r.unix_s - t);
    t = r.unix_s;
    p = r.watts;
  }
  return energy + 0.5 * (p + power_at(to)) * (to - t);
}

ExternalLogMeter::ExternalLogMeter(std::string path, std::string host, std::function<double()> now_unix_s)
    : path_(std::move(path)), host_(std::move(host)), now_unix_s_(std::move(now_unix_s)) {
  if (!now_unix_s_) {
    now_unix_s_ = [] {
      return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    };
  }
  origin_unix_s_ = now_unix_s_();
}

std::vector<PowerReading> ExternalLogMeter::load() const {
  std::ifstream in(path_);
  if (!in) throw MeterError(fmt::format("external: cannot read the power log {}", path_));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_power_log(text.str(), host_, path_);
}

std::string ExternalLogMeter::unavailable_reason() const {
  try {
    if (load().empty()) return fmt::format("external: the power log {} has no rows for host {}", path_, host_);
    return {};
  } catch (const MeterError& e) {
    return e.what();
  }
}

Joules ExternalLogMeter::read() { return {integrate_power(load(), origin_unix_s_, now_unix_s_())}; }

}  // namespace cs::energy
