// Running a program by argument vector: output, exit code, and signals that interrupt the wait.
#include "base/subprocess.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace cs {
namespace {

TEST(Subprocess, CapturesStandardOutputAndExitCode) {
  const auto ok = run_program({"printf", "a%sb", "-"});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->out, "a-b");
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_EQ(run_program({"false"})->exit_code, 1);
  EXPECT_FALSE(run_program({"/nonexistent/program"}));
}

TEST(Subprocess, RunsInTheGivenDirectory) {
  ProgramOptions in_share;
  in_share.working_directory = "/usr/share";
  const auto out = run_program({"pwd"}, in_share);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->out, "/usr/share\n");
}

TEST(Subprocess, AProgramPastItsTimeLimitIsKilled) {
  ProgramOptions short_limit;
  short_limit.time_limit = std::chrono::milliseconds(200);
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = run_program({"sleep", "30"}, short_limit);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->timed_out);
  EXPECT_EQ(out->exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  // One that closes its output and goes on running is killed at the limit too.
  const auto detached = run_program({"sh", "-c", "exec >/dev/null; sleep 30"}, short_limit);
  ASSERT_TRUE(detached);
  EXPECT_TRUE(detached->timed_out);
}

std::atomic<int> signals_seen{0};
void count_signal(int) { ++signals_seen; }

TEST(Subprocess, SignalsThatInterruptReadAndWaitDoNotLoseTheOutput) {
  // Like the project's SIGTERM/SIGUSR1 handlers: no SA_RESTART, so read and waitpid see EINTR.
  struct sigaction action {};
  action.sa_handler = count_signal;
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGUSR2, &action, &previous), 0);
  const pthread_t caller = pthread_self();
  std::atomic<bool> done{false};
  std::thread interrupter([&] {
    for (int i = 0; i < 20 && !done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!done) pthread_kill(caller, SIGUSR2);
    }
  });
  const auto out = run_program({"sh", "-c", "sleep 0.3; echo finished"});
  done = true;
  interrupter.join();
  sigaction(SIGUSR2, &previous, nullptr);
  ASSERT_TRUE(out);
  EXPECT_GT(signals_seen.load(), 0);
  EXPECT_EQ(out->out, "finished\n");
  EXPECT_EQ(out->exit_code, 0);
}

}  // namespace
}  // namespace cs
