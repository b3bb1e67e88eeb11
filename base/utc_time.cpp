// UTC timestamps in the forms traces, logs and the study file use.
#include "base/utc_time.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace cs {

std::string format_utc_timestamp(double unix_s) {
  const auto t = static_cast<std::time_t>(std::floor(unix_s));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool parse_utc_timestamp(const std::string& text, double& unix_s) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  double second = 0.0;
  char sep = 0;
  char tail[4] = {};
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%lf%3s", &year, &month, &day, &sep, &hour, &minute,
                            &second, tail);
  if (n < 7 || (sep != ' ' && sep != 'T') || (n == 8 && std::string(tail) != "Z")) return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second < 0 || second >= 61) {
    return false;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  unix_s = static_cast<double>(timegm(&tm)) + second;
  return true;
}

}  // namespace cs
