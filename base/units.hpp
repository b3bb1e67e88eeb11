// Small strong types for quantities that cross module boundaries.
#pragma once

namespace cs {

struct Joules {
  double value = 0.0;
  friend Joules operator+(Joules a, Joules b) { return {a.value + b.value}; }
  friend Joules operator-(Joules a, Joules b) { return {a.value - b.value}; }
  Joules& operator+=(Joules other) {
    value += other.value;
    return *this;
  }
  friend auto operator<=>(Joules, Joules) = default;
};

inline constexpr double kJoulesPerKwh = 3.6e6;

inline double to_kwh(Joules e) { return e.value / kJoulesPerKwh; }

}  // namespace cs
