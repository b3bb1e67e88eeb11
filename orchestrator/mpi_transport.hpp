// The MPI session (init/finalize) and the point-to-point transport over MPI_COMM_WORLD.
#pragma once

#include <mpi.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "orchestrator/transport.hpp"

namespace cs::orchestrator {

/// Throws MpiError naming `what` when an MPI call did not return MPI_SUCCESS.
void mpi_check(int code, const char* what);

/// How long MPI_Finalize may take before the rank ends without it.
constexpr std::chrono::seconds kFinalizeLimit{30};

/// MPI_Init_thread on construction, MPI_Finalize on destruction, within kFinalizeLimit: Open MPI
/// 4.1 under --enable-recovery waits in MPI_Finalize for a rank that died (and spins a core
/// doing it). Every result is written before the session ends, so a rank whose finalize passes
/// the limit says so and exits with set_exit_code()'s code (1 unless set).
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  /// The code the process exits with should MPI_Finalize not return within kFinalizeLimit.
  void set_exit_code(int code) { exit_code_ = code; }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// Every rank's hostname, gathered once (collective).
  std::vector<std::string> all_hosts() const;
  struct NodeCount {
    int count = 0;  ///< ranks on this rank's node that say `counts`
    int index = 0;  ///< how many of them come before this rank (its local index among them)
  };
  /// Counts the ranks on this rank's node (MPI_COMM_TYPE_SHARED) that say `counts` (collective).
  NodeCount count_on_node(bool counts) const;
  /// The lowest rank for which `failed` is true, or -1 (collective).
  int lowest_failing_rank(bool failed) const;
  std::string library_version() const;
  /// Rank 0's `value` on every rank (collective).
  double broadcast_from_root(double value) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  int exit_code_ = 1;
};

class MpiTransport final : public Transport {
 public:
  explicit MpiTransport(const MpiSession& session) : rank_(session.rank()) {}
  int rank() const override { return rank_; }
  void send(int destination, const Message& message) override;
  /// Polls with MPI_Iprobe and short sleeps, so that a waiting coordinator does not spin a core.
  std::optional<Envelope> receive(std::chrono::milliseconds timeout) override;
  std::optional<Envelope> receive_tagged(int tag) override;

 private:
  /// One probe for (any source, `tag`), and its receive; the caller holds mutex_.
  std::optional<Envelope> take(int tag);

  int rank_;
  std::mutex mutex_;  ///< MPI_THREAD_SERIALIZED: one thread in MPI at a time
};

}  // namespace cs::orchestrator
