// posix_spawnp with a pipe for standard output, read under a deadline.
#include "base/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

extern char** environ;

namespace cs {

namespace {

/// Reaps `pid`, killing it at the deadline (a program may close its output and go on running);
/// false when it cannot be waited for.
bool reap(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status, bool& killed) {
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    const pid_t waited = waitpid(pid, &status, killed ? 0 : WNOHANG);
    if (waited == pid) return true;
    if (waited < 0 && errno != EINTR) return false;
    if (!killed && std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
    } else if (waited == 0) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(20'000));
    }
  }
}

/// Appends the program's output until it closes the pipe (true) or the deadline passes (false).
bool read_until_closed(int fd, std::chrono::steady_clock::time_point deadline, std::string& out) {
  char buffer[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;  // our own SIGTERM/SIGUSR1 handlers interrupt it
    if (ready <= 0) return ready == 0 ? false : true;
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::optional<ProgramOutput> run_program(const std::vector<std::string>& args, const ProgramOptions& options) {
  if (args.empty()) return std::nullopt;
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2];
  // Close-on-exec: no other program this process starts inherits the pipe (and so keeps it open).
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
  }
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return std::nullopt;
  }
  ProgramOutput result;
  const auto deadline = std::chrono::steady_clock::now() + options.time_limit;
  if (!read_until_closed(pipe_fds[0], deadline, result.out)) {
    kill(pid, SIGKILL);
    result.timed_out = true;
  }
  close(pipe_fds[0]);
  int status = 0;
  if (!reap(pid, deadline, status, result.timed_out)) return std::nullopt;
  result.exit_code = WIFEXITED(status) && !result.timed_out ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace cs
