// Where the coordinator puts finished trials: the results store, or an in-memory sink in tests.
#pragma once

#include <cstdint>
#include <vector>

#include "io/trial_result.hpp"

namespace cs::io {

/// The coordinator's side of the results: rank 0 only, one thread.
class TrialSink {
 public:
  virtual ~TrialSink() = default;
  /// Records a finished trial (not yet durable).
  virtual void append(TrialResult result) = 0;
  /// Records an attempt that is run again ([faults] retries): its cost counts, its result does not.
  virtual void append_attempt(TrialResult attempt) = 0;
  /// Makes everything appended so far durable: nothing committed is lost if the job dies.
  virtual void commit() = 0;
  /// Starts commit() of everything appended so far and returns a ticket at once; appends may
  /// go on meanwhile (a later ticket covers them). Here: commit() in the caller.
  virtual std::uint64_t commit_async() {
    commit();
    return ++committed_;
  }
  /// The highest ticket that is durable; rethrows the error of a failed commit.
  virtual std::uint64_t durable() { return committed_; }
  /// Waits until `ticket` is durable; rethrows the error of a failed commit.
  virtual void wait_durable(std::uint64_t) {}
  /// Writes a checkpoint that readers can open (the HDF5 file).
  virtual void flush() = 0;
  /// The workers' idle time and its cost, for the next flush().
  virtual void set_idle(std::vector<IdleRecord> idle) = 0;

 private:
  std::uint64_t committed_ = 0;
};

}  // namespace cs::io
