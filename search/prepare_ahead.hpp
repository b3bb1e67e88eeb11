// Work prepared ahead of need: Bayesian optimisation's next batch of suggestions is computed
// while the coordinator goes on serving workers from the current one.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <thread>

namespace cs::search {

/// Runs one job at a time, started now and waited for later. The sampler starts a job only
/// after waiting for the one before, so a runner never holds two.
class AheadRunner {
 public:
  virtual ~AheadRunner() = default;
  /// Starts `job`; it must touch nothing the caller uses until wait() returns.
  virtual void start(std::function<void()> job) = 0;
  /// Returns once the started job is done, rethrowing what it threw; at once when none is.
  virtual void wait() = 0;
};

/// Each job on a thread of its own, joined by wait() (and by the destructor).
class ThreadAheadRunner final : public AheadRunner {
 public:
  ThreadAheadRunner() = default;
  ThreadAheadRunner(const ThreadAheadRunner&) = delete;
  ThreadAheadRunner& operator=(const ThreadAheadRunner&) = delete;
  ~ThreadAheadRunner() override;
  void start(std::function<void()> job) override;
  void wait() override;

 private:
  std::thread thread_;
  std::exception_ptr error_;
};

}  // namespace cs::search
