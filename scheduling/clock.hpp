// The coordinator's sense of time: the wall clock (optionally replaying a trace at [time]
// scale) or a virtual clock that the simulator moves from event to event.
#pragma once

#include <chrono>
#include <optional>

namespace cs::scheduling {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Pricing time: the instant on the carbon traces, seconds since 1970 UTC.
  virtual double now_unix_s() const = 0;
  /// How long a transport should wait for `clock_s` seconds of this clock to pass.
  virtual std::chrono::milliseconds wait_for(double clock_s) const = 0;
  /// Clock seconds per real second of work (for energy over a clock interval).
  virtual double scale() const = 0;
};

/// Wall time, or `start_unix_s` + elapsed wall time x `scale` when replaying a trace.
class WallClock final : public Clock {
 public:
  explicit WallClock(std::optional<double> start_unix_s = std::nullopt, double scale = 1.0,
                     std::optional<double> origin_unix_s = std::nullopt);
  double now_unix_s() const override;
  std::chrono::milliseconds wait_for(double clock_s) const override;
  double scale() const override { return start_unix_s_ ? scale_ : 1.0; }

 private:
  std::optional<double> start_unix_s_;
  double scale_;
  double origin_unix_s_;  ///< wall time at which pricing time is start_unix_s_
};

/// Time that moves only when told to: one clock millisecond per transport millisecond.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(double start_unix_s) : now_unix_s_(start_unix_s) {}
  double now_unix_s() const override { return now_unix_s_; }
  std::chrono::milliseconds wait_for(double clock_s) const override;
  double scale() const override { return 1.0; }
  void advance_to(double unix_s) {
    if (unix_s > now_unix_s_) now_unix_s_ = unix_s;
  }

 private:
  double now_unix_s_;
};

}  // namespace cs::scheduling
