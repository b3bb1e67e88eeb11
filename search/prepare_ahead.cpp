// A job on a thread of its own.
#include "search/prepare_ahead.hpp"

#include <utility>

namespace cs::search {

ThreadAheadRunner::~ThreadAheadRunner() {
  if (thread_.joinable()) thread_.join();
}

void ThreadAheadRunner::start(std::function<void()> job) {
  wait();
  thread_ = std::thread([this, job = std::move(job)] {
    try {
      job();
    } catch (...) {
      error_ = std::current_exception();  // read by wait() after the join
    }
  });
}

void ThreadAheadRunner::wait() {
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace cs::search
