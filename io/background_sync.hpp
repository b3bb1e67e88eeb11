// Group commit off the caller's thread: an fdatasync runs on a thread of its own whenever asked,
// while the caller goes on appending (the coordinator keeps serving workers during it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace cs::io {

class BackgroundSync {
 public:
  /// `sync` makes everything written before it was called durable (an fdatasync).
  explicit BackgroundSync(std::function<void()> sync);
  /// Lets a sync in progress finish; a requested one not yet begun is dropped.
  ~BackgroundSync();
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  /// Asks for a sync of everything written so far; returns its ticket at once. Requests that
  /// arrive during a sync share the next one.
  std::uint64_t request();
  /// The highest ticket made durable. Rethrows the error of a failed sync.
  std::uint64_t done();
  /// Waits until `ticket` is durable. Rethrows the error of a failed sync.
  void wait(std::uint64_t ticket);

 private:
  void loop(std::stop_token stop);

  std::function<void()> sync_;
  std::mutex mutex_;
  std::condition_variable_any asked_, finished_;
  std::uint64_t requested_ = 0, done_ = 0;
  std::exception_ptr error_;
  std::jthread thread_;  // last: stopped and joined before the rest goes
};

}  // namespace cs::io
