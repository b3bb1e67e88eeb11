// The versioned messages between the coordinator and the workers, and their byte encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "io/trial_result.hpp"
#include "search/trial_spec.hpp"

namespace cs::orchestrator {

/// 3: a ResultReport also says the worker is ready for its next trial (no separate Ready), and
/// an EpochReport is answered with a Decision only when the study has a pruner.
/// 4: heartbeats, interrupting a running trial, a worker's signal, and the attempt of a trial.
inline constexpr std::uint8_t kProtocolVersion = 6;

/// A worker is ready for a trial.
struct Ready {
  std::int32_t rank = 0;
};
/// The coordinator hands a trial to a worker.
struct Assign {
  search::TrialSpec spec;
  std::int32_t attempt = 1;  ///< more than 1 when the trial is retried
};
/// No more work: the worker exits its loop.
struct Shutdown {
  std::string reason;
};
/// A worker finished one epoch of a running trial.
struct EpochReport {
  std::int64_t trial_id = 0;
  io::EpochRecord record;
};
/// A worker finished a trial (completed, failed, diverged or pruned).
struct ResultReport {
  io::TrialResult result;
};
/// A worker cannot go on (e.g. its dataset failed to load) and leaves the study.
struct Goodbye {
  std::int32_t rank = 0;
  std::string reason;
};

/// The coordinator's answer to an EpochReport: go on, or stop the trial now (pruned).
struct Decision {
  std::int64_t trial_id = 0;
  bool stop = false;
};

/// A worker is alive: sent every heartbeat interval from a thread of its own, even mid-trial.
struct Heartbeat {
  std::int32_t rank = 0;
};
/// The coordinator stops a running trial at its next step (a signal, or the grace deadline).
struct Interrupt {
  std::int64_t trial_id = 0;
};
/// A worker received a stop signal; the coordinator acts on it as on its own.
struct Signalled {
  std::int32_t signal = 0;
};

using Message = std::variant<Ready, Assign, Shutdown, EpochReport, ResultReport, Goodbye, Decision, Heartbeat,
                             Interrupt, Signalled>;

/// The message's type code, also used as the MPI tag.
int tag_of(const Message& message);

std::vector<std::byte> encode(const Message& message);
/// Throws MpiError when the bytes are truncated, of another protocol version, or unknown.
Message decode(std::span<const std::byte> bytes);

}  // namespace cs::orchestrator
