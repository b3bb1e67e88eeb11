// UTC timestamps: "2020-01-31 23:30:00" and ISO 8601 with T and Z, to and from seconds since 1970.
#pragma once

#include <string>

namespace cs {

/// Parses "2020-01-31 23:30:00", "2020-01-31T23:30:00Z" or "2020-01-31T23:30:00" as UTC;
/// false when the text is not such a time.
bool parse_utc_timestamp(const std::string& text, double& unix_s);
/// "2020-01-31T23:30:00Z" for a time in seconds since 1970 UTC (whole seconds).
std::string format_utc_timestamp(double unix_s);

}  // namespace cs
