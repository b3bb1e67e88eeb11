// MPI calls, each checked.
#include "orchestrator/mpi_transport.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::orchestrator {

// Waiting polls MPI_Iprobe with short sleeps: every 10 us for the first millisecond of a wait
// (when the reply to what was just sent comes), then doubling to every 1 ms. The sleeps run
// with a timer slack of 5 us instead of Linux's 50 us, which made every 10 us pause 60 us. With
// both, 1 worker ran 9.7k zero-work trials/s instead of 2.6k, 3 workers 17-21k instead of 8.5k
// (bench/orchestration.sh). A message to an idle coordinator waits at most about 1 ms, and an
// idle coordinator costs about 1% of a core (4.9% when the longest pause was 200 us). A blocking
// MPI_Probe would spin a core in Open MPI, which a coordinator sharing a node with its workers
// must not do.
constexpr auto kFirstPause = std::chrono::microseconds(10), kLongestPause = std::chrono::microseconds(1000);
constexpr auto kQuickWindow = std::chrono::milliseconds(1);
constexpr unsigned long kTimerSlackNs = 5'000;

void mpi_check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw MpiError(fmt::format("MPI: {} failed: {}", what, std::string(text, static_cast<std::size_t>(len))));
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    throw MpiError("MPI: this MPI library cannot serve two threads of a rank (MPI_THREAD_SERIALIZED)");
  }
  mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  mpi_check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  mpi_check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

MpiSession::~MpiSession() {
  std::mutex mutex;
  std::condition_variable finalized;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    if (finalized.wait_for(lock, kFinalizeLimit, [&] { return done; })) return;
    std::cerr << fmt::format(
        "carbonsweep: rank {}: MPI_Finalize did not return within {} s (a rank of the job was "
        "lost); exiting without it\n",
        rank_, kFinalizeLimit.count());
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(exit_code_);
  });
  MPI_Finalize();
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  finalized.notify_one();
  watchdog.join();
}

std::vector<std::string> MpiSession::all_hosts() const {
  constexpr int kLen = 256;
  char name[kLen] = {};
  gethostname(name, kLen - 1);
  std::vector<char> all(static_cast<std::size_t>(kLen * size_));
  mpi_check(MPI_Allgather(name, kLen, MPI_CHAR, all.data(), kLen, MPI_CHAR, MPI_COMM_WORLD), "MPI_Allgather");
  std::vector<std::string> hosts;
  for (int r = 0; r < size_; ++r) hosts.emplace_back(&all[static_cast<std::size_t>(r * kLen)]);
  return hosts;
}

MpiSession::NodeCount MpiSession::count_on_node(bool counts) const {
  MPI_Comm node = MPI_COMM_NULL;
  mpi_check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  int mine = counts ? 1 : 0, node_rank = 0;
  NodeCount result;
  int rc = MPI_Allreduce(&mine, &result.count, 1, MPI_INT, MPI_SUM, node);
  if (rc == MPI_SUCCESS) rc = MPI_Exscan(&mine, &result.index, 1, MPI_INT, MPI_SUM, node);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(node, &node_rank);
  MPI_Comm_free(&node);
  mpi_check(rc, "counting the ranks on this node");
  if (node_rank == 0) result.index = 0;  // MPI_Exscan leaves the first rank's result undefined
  return result;
}

int MpiSession::lowest_failing_rank(bool failed) const {
  int mine = failed ? rank_ : INT_MAX, lowest = INT_MAX;
  mpi_check(MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  return lowest == INT_MAX ? -1 : lowest;
}

double MpiSession::broadcast_from_root(double value) const {
  mpi_check(MPI_Bcast(&value, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return value;
}

std::string MpiSession::library_version() const {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  mpi_check(MPI_Get_library_version(text, &len), "MPI_Get_library_version");
  std::string s(text, static_cast<std::size_t>(len));
  return s.substr(0, s.find_first_of(",\n"));
}

void MpiTransport::send(int destination, const Message& message) {
  const auto bytes = encode(message);
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) throw MpiError("protocol: message larger than 2 GiB");
  const std::lock_guard lock(mutex_);
  mpi_check(
      MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, destination, tag_of(message), MPI_COMM_WORLD),
      "MPI_Send");
}

std::optional<Envelope> MpiTransport::take(int tag) {
  int flag = 0;
  MPI_Status status{};
  mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  int count = 0;
  mpi_check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  std::vector<std::byte> bytes(static_cast<std::size_t>(count));
  mpi_check(
      MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
      "MPI_Recv");
  return Envelope{status.MPI_SOURCE, decode(bytes)};
}

std::optional<Envelope> MpiTransport::receive(std::chrono::milliseconds timeout) {
  static thread_local const bool slack_set = ::prctl(PR_SET_TIMERSLACK, kTimerSlackNs, 0, 0, 0) == 0;
  (void)slack_set;  // per thread; without it the pauses are only longer
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  auto pause = kFirstPause;
  while (true) {
    {
      const std::lock_guard lock(mutex_);
      if (auto envelope = take(MPI_ANY_TAG)) return envelope;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    if (now - start >= kQuickWindow) pause = std::min(pause * 2, kLongestPause);
  }
}

std::optional<Envelope> MpiTransport::receive_tagged(int tag) {
  const std::lock_guard lock(mutex_);
  return take(tag);
}

}  // namespace cs::orchestrator
