// The coordinator and the real worker loop over in-process transport, with faults: a worker that
// falls silent, failed attempts and retries, trial time limits, SIGTERM and SIGUSR1.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "orchestrator/coordinator.hpp"
#include "orchestrator/worker.hpp"
#include "search/random_sampler.hpp"

namespace cs::orchestrator {
namespace {

using std::chrono::milliseconds;

/// The trials whose first attempt fails, shared by every worker's executor.
struct FailFirst {
  std::mutex mutex;
  std::set<std::int64_t> ids;
  bool take(std::int64_t id) {
    const std::lock_guard lock(mutex);
    return ids.erase(id) > 0;
  }
};

/// Three epochs of `epoch` each, passed in 5 ms slices that ask the stop check; fails the first
/// attempt of the trials in `fail_first`.
class FakeExecutor final : public nodes::TrialExecutor {
 public:
  FakeExecutor(milliseconds epoch, FailFirst& fail_first) : epoch_(epoch), fail_first_(fail_first) {}
  io::TrialResult run(const search::TrialSpec& spec, const nodes::EpochReporter& report,
                      const nodes::StopCheck& stop) override {
    io::TrialResult r;
    r.spec = spec;
    r.start_unix_s = 1.0;
    if (fail_first_.take(spec.id)) {
      r.status = search::TrialStatus::kFailed;
      r.error = "injected";
      return r;
    }
    for (int e = 1; e <= 3; ++e) {
      for (auto left = epoch_; left > milliseconds(0); left -= milliseconds(5)) {
        if (const auto why = stop ? stop() : std::nullopt) {
          r.status = *why;
          r.energy_j += 1.0;  // what it spent before it stopped
          return r;
        }
        std::this_thread::sleep_for(milliseconds(5));
      }
      r.energy_j += 10.0;
      r.epochs.push_back({e, 0.1, 0.5, 10.0, std::chrono::duration<double>(epoch_).count()});
      r.objective = 0.5;
      r.epochs_done = e;
      if (report) report(r.epochs.back());
    }
    return r;
  }

 private:
  milliseconds epoch_;
  FailFirst& fail_first_;
};

class MemorySink final : public io::TrialSink {
 public:
  void append(io::TrialResult result) override { results.push_back(std::move(result)); }
  void append_attempt(io::TrialResult attempt) override { attempts.push_back(std::move(attempt)); }
  void commit() override {}
  void flush() override {}
  void set_idle(std::vector<io::IdleRecord>) override {}
  std::vector<io::TrialResult> results, attempts;
};

class QuietProgress final : public ProgressSink {
 public:
  void trial_started() override {}
  void trial_finished(const io::TrialResult&) override {}
  void trial_requeued(const io::TrialResult*) override { ++requeued; }
  void trial_resumed(const io::TrialResult&) override {}
  void note(const std::string& text) override { notes.push_back(text); }
  int requeued = 0;
  std::vector<std::string> notes;
};

search::SearchSpace space() { return search::SearchSpace({{"lr", search::ParamKind::kFloat, 1e-3, 1e-1, true, {}}}); }

struct Faults {
  int workers = 2;
  std::int64_t budget = 6;
  milliseconds epoch{20};
  std::set<std::int64_t> fail_first;
  int retries = 0;
  std::optional<milliseconds> trial_timeout;
  std::function<int()> stop_signal;  ///< for the coordinator and every worker
  milliseconds grace{10'000};
  bool silent_worker = false;  ///< one more worker, which takes a trial and then says nothing
};

struct Outcome {
  CoordinatorSummary summary;
  MemorySink sink;
  QuietProgress progress;
  std::vector<WorkerEnd> ends;
};

std::unique_ptr<Outcome> run(const Faults& f) {
  auto out = std::make_unique<Outcome>();
  const int silent = f.silent_worker ? f.workers + 1 : 0;
  InProcessHub hub(f.workers + 1 + (silent ? 1 : 0));
  FailFirst fail_first{{}, f.fail_first};
  search::RandomSampler sampler(space(), 1);
  CoordinatorOptions o;
  o.budget_trials = f.budget;
  o.heartbeat_timeout = milliseconds(400);
  o.heartbeat_interval = milliseconds(50);
  o.retries = f.retries;
  o.stop_signal = f.stop_signal;
  o.grace = f.grace;
  o.interrupt_wait = milliseconds(2'000);
  out->ends.resize(static_cast<std::size_t>(f.workers));
  std::vector<std::jthread> threads;
  for (int w = 1; w <= f.workers; ++w) {
    o.workers.push_back(w);
    threads.emplace_back([&, w] {
      WorkerOptions wo;
      wo.heartbeat_interval = milliseconds(50);
      wo.trial_timeout = f.trial_timeout;
      wo.stop_signal = f.stop_signal;
      wo.shutdown_wait = milliseconds(3'000);
      out->ends[static_cast<std::size_t>(w - 1)] =
          run_worker(hub.endpoint(w), wo, [&] { return std::make_unique<FakeExecutor>(f.epoch, fail_first); });
    });
  }
  if (silent) {
    o.workers.push_back(silent);
    threads.emplace_back([&] {
      hub.endpoint(silent).send(0, Ready{silent});
      hub.endpoint(silent).receive(milliseconds(5'000));  // its Assign; then nothing, like a stopped process
    });
  }
  Coordinator c(hub.endpoint(0), sampler, out->sink, out->progress, o);
  out->summary = c.run();
  return out;
}

std::set<std::int64_t> ids(const std::vector<io::TrialResult>& results) {
  std::set<std::int64_t> s;
  for (const auto& r : results) s.insert(r.spec.id);
  return s;
}

TEST(Faults, ASilentWorkerIsLostAndItsTrialRunsOnAnother) {
  Faults f;
  f.silent_worker = true;
  const auto out = run(f);
  EXPECT_EQ(out->summary.lost, std::vector<int>{3});
  EXPECT_EQ(out->summary.requeued, 1);
  ASSERT_EQ(out->sink.results.size(), 6u);  // every trial once
  EXPECT_EQ(ids(out->sink.results), (std::set<std::int64_t>{0, 1, 2, 3, 4, 5}));
  for (const auto& r : out->sink.results) EXPECT_NE(r.rank, 3);
  EXPECT_EQ(out->progress.requeued, 1);
}

TEST(Faults, AFailedAttemptIsRetriedAndBothAttemptsAreRecorded) {
  Faults f;
  f.fail_first = {0, 4};
  f.retries = 1;
  const auto out = run(f);
  ASSERT_EQ(out->sink.results.size(), 6u);
  EXPECT_EQ(ids(out->sink.results).size(), 6u);
  ASSERT_EQ(out->sink.attempts.size(), 2u);
  for (const auto& a : out->sink.attempts) {
    EXPECT_EQ(a.attempt, 1);
    EXPECT_EQ(a.status, search::TrialStatus::kFailed);
  }
  for (const auto& r : out->sink.results) {
    EXPECT_EQ(r.status, search::TrialStatus::kCompleted);
    EXPECT_EQ(r.attempt, r.spec.id == 0 || r.spec.id == 4 ? 2 : 1);
  }
  EXPECT_EQ(out->summary.retried, 2);
}

TEST(Faults, WithoutRetriesAFailedTrialIsItsResult) {
  Faults f;
  f.fail_first = {2};
  const auto out = run(f);
  ASSERT_EQ(out->sink.results.size(), 6u);
  EXPECT_TRUE(out->sink.attempts.empty());
  EXPECT_EQ(out->summary.trials_failed, 1);
}

TEST(Faults, ATrialOverItsTimeLimitStopsAtItsNextStepAsTimeout) {
  Faults f;
  f.budget = 2;
  f.epoch = milliseconds(200);
  f.trial_timeout = milliseconds(100);
  const auto out = run(f);
  ASSERT_EQ(out->sink.results.size(), 2u);
  for (const auto& r : out->sink.results) {
    EXPECT_EQ(r.status, search::TrialStatus::kTimeout);
    EXPECT_EQ(r.epochs_done, 0);  // stopped inside its first epoch, not after three
    EXPECT_GT(r.energy_j, 0.0);
  }
}

TEST(Faults, SigtermInterruptsTheRunningTrialsAndStartsNoMore) {
  std::atomic<int> polls{0};
  Faults f;
  f.budget = 20;
  f.epoch = milliseconds(100);
  f.stop_signal = [&] { return ++polls > 40 ? SIGTERM : 0; };  // a little way into the first trials
  const auto out = run(f);
  EXPECT_TRUE(out->summary.interrupted);
  EXPECT_LT(out->sink.results.size(), 20u);
  int interrupted = 0;
  for (const auto& r : out->sink.results) {
    if (r.status == search::TrialStatus::kInterrupted) {
      ++interrupted;
      EXPECT_GT(r.energy_j, 0.0);
    }
  }
  EXPECT_GE(interrupted, 1);
  EXPECT_LT(out->summary.trials_done, static_cast<std::int64_t>(out->sink.results.size()) + 1);
  for (const auto& end : out->ends) EXPECT_TRUE(end.interrupted);
}

TEST(Faults, Sigusr1LetsTheRunningTrialsFinishWhenTheyFitTheGrace) {
  for (const bool fits : {true, false}) {
    std::atomic<bool> signalled{false};
    std::atomic<int> polls{0};
    Faults f;
    f.budget = 20;
    f.epoch = milliseconds(60);
    f.grace = fits ? milliseconds(10'000) : milliseconds(0);
    f.stop_signal = [&] {
      if (++polls > 150) signalled = true;  // after the first epochs were reported
      return signalled ? SIGUSR1 : 0;
    };
    const auto out = run(f);
    EXPECT_TRUE(out->summary.interrupted);
    int interrupted = 0;
    for (const auto& r : out->sink.results) interrupted += r.status == search::TrialStatus::kInterrupted;
    if (fits) {
      EXPECT_EQ(interrupted, 0) << "a trial that can end within the grace finishes";
    } else {
      EXPECT_GE(interrupted, 1) << "with no grace the running trials are interrupted";
    }
    EXPECT_LT(out->sink.results.size(), 20u);
  }
}

}  // namespace
}  // namespace cs::orchestrator
