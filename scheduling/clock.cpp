// Wall and virtual clocks.
#include "scheduling/clock.hpp"

#include <algorithm>
#include <cmath>

namespace cs::scheduling {

namespace {
double system_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(std::clamp(seconds, 0.0, 1e12) * 1000.0)));
}
}  // namespace

WallClock::WallClock(std::optional<double> start_unix_s, double scale, std::optional<double> origin_unix_s)
    : start_unix_s_(start_unix_s), scale_(scale), origin_unix_s_(origin_unix_s.value_or(system_now_s())) {}

double WallClock::now_unix_s() const {
  const double now = system_now_s();
  return start_unix_s_ ? *start_unix_s_ + (now - origin_unix_s_) * scale_ : now;
}

std::chrono::milliseconds WallClock::wait_for(double clock_s) const {
  return to_ms(start_unix_s_ ? clock_s / scale_ : clock_s);
}

std::chrono::milliseconds VirtualClock::wait_for(double clock_s) const { return to_ms(clock_s); }

}  // namespace cs::scheduling
