// The busy time of the processes that share one GPU, so that they can split its energy.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "energy/apportion.hpp"

namespace cs::energy {

/// A node-local folder per GPU with one small file per metering process: its busy seconds so
/// far and, while it runs a meter session, since when. Any process reads the whole board at
/// any instant of the shared clock, so the ranks on one GPU agree on each interval's busy
/// times and their shares add up to 1 while any of them is busy. Files of processes that no
/// longer exist are ignored (a killed rank cannot keep its share).
class GpuBusyBoard {
 public:
  /// Creates `folder` (and its parents) when missing; throws MeterError when it cannot.
  /// `now_s` must be a clock that every process on the node shares (CLOCK_MONOTONIC).
  GpuBusyBoard(std::string folder, std::function<double()> now_s);
  ~GpuBusyBoard();  ///< removes this process's file
  GpuBusyBoard(const GpuBusyBoard&) = delete;
  GpuBusyBoard& operator=(const GpuBusyBoard&) = delete;

  void set_busy(bool busy);
  /// Busy seconds so far: this process's, and every live process's on the board (its own included).
  BusyTimes times() const;

 private:
  void publish() const;

  std::string folder_, file_;
  std::function<double()> now_s_;
  double busy_s_ = 0.0;
  std::optional<double> busy_since_s_;
};

/// Where the boards live: /dev/shm (memory, node-local) when it is writable, else $TMPDIR or
/// /tmp; one folder per user.
std::string default_gpu_board_folder();

}  // namespace cs::energy
