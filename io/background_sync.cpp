// The sync thread and its tickets.
#include "io/background_sync.hpp"

namespace cs::io {

BackgroundSync::BackgroundSync(std::function<void()> sync)
    : sync_(std::move(sync)), thread_([this](std::stop_token stop) { loop(stop); }) {}

BackgroundSync::~BackgroundSync() {
  thread_.request_stop();
  thread_.join();
}

void BackgroundSync::loop(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  // wait() also returns true when stopped with a request pending: that one is dropped.
  while (asked_.wait(lock, stop, [this] { return requested_ > done_ && !error_; }) && !stop.stop_requested()) {
    const auto target = requested_;  // everything written before this request is covered
    lock.unlock();
    std::exception_ptr error;
    try {
      sync_();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error) {
      error_ = error;
    } else {
      done_ = target;
    }
    finished_.notify_all();
  }
}

std::uint64_t BackgroundSync::request() {
  const std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
  ++requested_;
  asked_.notify_one();
  return requested_;
}

std::uint64_t BackgroundSync::done() {
  const std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
  return done_;
}

void BackgroundSync::wait(std::uint64_t ticket) {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [&] { return done_ >= ticket || error_; });
  if (error_) std::rethrow_exception(error_);
}

}  // namespace cs::io
