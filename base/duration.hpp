// Parses durations with explicit units: "100ms", "2s", "5min", "6h", "1d".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cs {

/// nullopt when the text is not a positive number (or zero, with `allow_zero`) followed by ms,
/// s, min, h or d.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, bool allow_zero = false);

/// The duration in the largest unit that writes it whole ("90s", "2h", "1500ms"); parse_duration reads it back.
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace cs
