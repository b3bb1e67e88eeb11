// The coordinator over in-process transport with scripted workers (no training).
#include "orchestrator/coordinator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "search/random_sampler.hpp"

namespace cs::orchestrator {
namespace {

CoordinatorOptions basic_options(std::int64_t budget, std::vector<int> workers) {
  CoordinatorOptions o;
  o.budget_trials = budget;
  o.workers = std::move(workers);
  return o;
}

search::SearchSpace space() { return search::SearchSpace({{"lr", search::ParamKind::kFloat, 1e-3, 1e-1, true, {}}}); }

/// A worker that answers every assignment at once with a synthetic result.
void scripted_worker(Transport& t, const std::string& site) {
  t.send(0, Ready{t.rank()});  // protocol 3: afterwards each result asks for the next trial
  while (true) {
    auto e = t.receive(std::chrono::seconds(10));
    ASSERT_TRUE(e.has_value());
    if (std::holds_alternative<Shutdown>(e->message)) return;
    const auto spec = std::get<Assign>(e->message).spec;
    io::TrialResult r;
    r.spec = spec;
    r.site = site;
    r.rank = t.rank();
    r.val_accuracy = 0.5 + 0.01 * static_cast<double>(spec.id);
    r.energy_j = r.facility_energy_j = 10.0;
    r.co2_g = 1.0;
    r.objective = r.val_accuracy;
    t.send(0, EpochReport{spec.id, {1, 0.1, r.objective, 10.0, 0.1}});  // no pruner: no answer
    t.send(0, ResultReport{r});
  }
}

/// Finished trials in memory: the coordinator's unit tests need no HDF5 file.
class MemorySink final : public io::TrialSink {
 public:
  void append(io::TrialResult result) override {
    results.push_back(std::move(result));
    ++uncommitted;
  }
  void append_attempt(io::TrialResult attempt) override { attempts.push_back(std::move(attempt)); }
  void commit() override { uncommitted = 0; }
  void flush() override { ++flushes; }
  void set_idle(std::vector<io::IdleRecord> records) override { idle = std::move(records); }

  std::vector<io::TrialResult> results;
  std::vector<io::TrialResult> attempts;
  std::vector<io::IdleRecord> idle;
  int uncommitted = 0, flushes = 0;
};

/// What the person would have been told.
class RecordingProgress final : public ProgressSink {
 public:
  void trial_started() override { ++started; }
  void trial_finished(const io::TrialResult&) override { ++finished; }
  void trial_requeued(const io::TrialResult*) override { ++requeued; }
  void trial_resumed(const io::TrialResult&) override { ++resumed; }
  void note(const std::string& text) override { notes.push_back(text); }

  int started = 0, finished = 0, resumed = 0, requeued = 0;
  std::vector<std::string> notes;
};

struct StudyRun {
  CoordinatorSummary summary;
  MemorySink sink;
  RecordingProgress progress;
};

/// A study of `budget` trials on `workers` scripted workers; `finished` are resumed first.
std::unique_ptr<StudyRun> run_study(int workers, std::int64_t budget,
                                    const std::vector<io::TrialResult>& finished = {}) {
  auto run = std::make_unique<StudyRun>();
  InProcessHub hub(workers + 1);
  search::RandomSampler sampler(space(), 1);
  std::vector<std::jthread> threads;
  std::vector<int> ranks;
  for (int w = 1; w <= workers; ++w) {
    ranks.push_back(w);
    threads.emplace_back([&hub, w] { scripted_worker(hub.endpoint(w), "site" + std::to_string(w)); });
  }
  Coordinator c(hub.endpoint(0), sampler, run->sink, run->progress, basic_options(budget, ranks));
  if (!finished.empty()) c.resume(finished);
  run->summary = c.run();
  return run;
}

bool noted(const RecordingProgress& p, const std::string& text) {
  return std::any_of(p.notes.begin(), p.notes.end(), [&](const auto& n) { return n.find(text) != std::string::npos; });
}

TEST(Coordinator, RunsExactlyTheBudgetWithDistinctIdsAndCommitsEveryResult) {
  const auto run = run_study(3, 20);
  EXPECT_EQ(run->summary.trials_done, 20);
  ASSERT_EQ(run->sink.results.size(), 20u);
  std::set<std::int64_t> ids;
  for (const auto& t : run->sink.results) ids.insert(t.spec.id);
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), 19);
  EXPECT_EQ(run->sink.uncommitted, 0);  // nothing left only in memory
  EXPECT_GE(run->sink.flushes, 1);      // the file is written at the end
  EXPECT_EQ(run->progress.started, 20);
  EXPECT_EQ(run->progress.finished, 20);
}

TEST(Coordinator, RandomSearchAssignsTheNextTrialBeforeTheFsyncAndCountsTheResultAfterIt) {
  // One worker, so one result per batch. At each commit (the fsync), with assign_before_commit
  // the worker already has its next trial; either way the result is not counted before it.
  struct Seen {
    int started, finished;
    std::size_t appended;
  };
  class WatchingSink final : public io::TrialSink {
   public:
    explicit WatchingSink(const RecordingProgress& progress) : progress_(progress) {}
    void append(io::TrialResult result) override { results.push_back(std::move(result)); }
    void append_attempt(io::TrialResult) override {}
    void commit() override { seen.push_back({progress_.started, progress_.finished, results.size()}); }
    void flush() override {}
    void set_idle(std::vector<io::IdleRecord>) override {}
    std::vector<io::TrialResult> results;
    std::vector<Seen> seen;

   private:
    const RecordingProgress& progress_;
  };
  for (const bool early : {false, true}) {
    InProcessHub hub(2);
    search::RandomSampler sampler(space(), 1);
    RecordingProgress progress;
    WatchingSink sink(progress);
    std::jthread worker([&hub] { scripted_worker(hub.endpoint(1), "a"); });
    auto options = basic_options(5, {1});
    options.assign_before_commit = early;
    Coordinator c(hub.endpoint(0), sampler, sink, progress, std::move(options));
    const auto summary = c.run();
    EXPECT_EQ(summary.trials_done, 5) << early;  // the last result counts though its worker was shut down
    EXPECT_EQ(progress.finished, 5) << early;
    ASSERT_EQ(sink.seen.size(), 5u) << early;
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(sink.seen[i].appended, i + 1) << early;
      EXPECT_EQ(sink.seen[i].finished, static_cast<int>(i)) << early << " " << i;  // not counted before its fsync
      const int next = early && i < 4 ? 1 : 0;                                     // the last trial has no next one
      EXPECT_EQ(sink.seen[i].started, static_cast<int>(i) + 1 + next) << early << " " << i;
    }
  }
}

TEST(Coordinator, ResultsReleasedBeforeTheirFsyncCountOnlyOnceTheirTicketIsDurable) {
  // A store whose background fsync lags: each ticket becomes durable only at the third look.
  // The workers go on with their next trials meanwhile; no result counts before its ticket.
  class LaggingSink final : public io::TrialSink {
   public:
    explicit LaggingSink(const RecordingProgress& progress) : progress_(progress) {}
    void append(io::TrialResult result) override {
      results.push_back(std::move(result));
      ticket_of.push_back(requested_ + 1);  // covered by the next request
    }
    void append_attempt(io::TrialResult) override {}
    void commit() override { durable_ = requested_; }
    std::uint64_t commit_async() override { return ++requested_; }
    std::uint64_t durable() override {
      if (durable_ < requested_ && ++looks_ % 3 == 0) ++durable_;
      const auto durable_results =
          std::count_if(ticket_of.begin(), ticket_of.end(), [&](auto t) { return t <= durable_; });
      counted_early = counted_early || progress_.finished > durable_results;
      overlapped = overlapped || progress_.started > progress_.finished + 2;  // beyond the 2 running
      return durable_;
    }
    void flush() override {}
    void set_idle(std::vector<io::IdleRecord>) override {}
    std::vector<io::TrialResult> results;
    std::vector<std::uint64_t> ticket_of;
    bool counted_early = false, overlapped = false;

   private:
    const RecordingProgress& progress_;
    std::uint64_t requested_ = 0, durable_ = 0;
    int looks_ = 0;
  };
  InProcessHub hub(3);
  search::RandomSampler sampler(space(), 1);
  RecordingProgress progress;
  LaggingSink sink(progress);
  std::jthread a([&hub] { scripted_worker(hub.endpoint(1), "a"); });
  std::jthread b([&hub] { scripted_worker(hub.endpoint(2), "a"); });
  auto options = basic_options(12, {1, 2});
  options.assign_before_commit = true;
  Coordinator c(hub.endpoint(0), sampler, sink, progress, std::move(options));
  const auto summary = c.run();
  EXPECT_EQ(summary.trials_done, 12);  // the last ones too, though their workers were shut down
  EXPECT_EQ(progress.finished, 12);
  EXPECT_EQ(sink.results.size(), 12u);
  EXPECT_FALSE(sink.counted_early);
  EXPECT_TRUE(sink.overlapped);  // a worker ran its next trial while its last result awaited the fsync
}

TEST(Coordinator, SurplusWorkersAreToldOnceAndExitCleanly) {
  const auto run = run_study(4, 2);
  EXPECT_EQ(run->summary.trials_done, 2);
  EXPECT_TRUE(noted(run->progress, "4 workers for 2 trials; 2 worker(s) will exit without work"));
  EXPECT_EQ(std::count_if(run->progress.notes.begin(), run->progress.notes.end(),
                          [](const auto& n) { return n.find("workers for") != std::string::npos; }),
            1);  // said once
}

TEST(Coordinator, AWorkerThatLeavesIsReportedAndTheOthersFinish) {
  InProcessHub hub(3);
  search::RandomSampler sampler(space(), 1);
  MemorySink sink;
  RecordingProgress progress;
  std::jthread good([&] { scripted_worker(hub.endpoint(1), "a"); });
  hub.endpoint(2).send(0, Goodbye{2, "dataset missing"});
  Coordinator c(hub.endpoint(0), sampler, sink, progress, basic_options(5, {1, 2}));
  const auto summary = c.run();
  EXPECT_EQ(summary.trials_done, 5);
  ASSERT_EQ(summary.notes.size(), 1u);
  EXPECT_NE(summary.notes[0].find("dataset missing"), std::string::npos);
  EXPECT_TRUE(noted(progress, "dataset missing"));
}

TEST(Coordinator, ResumeRunsOnlyTheUnfinishedTrialsWithTheSameParameters) {
  const auto full = run_study(2, 12);
  // An interrupted run that finished trials 0-4 and 9.
  std::vector<io::TrialResult> finished;
  for (const auto& r : full->sink.results) {
    if (r.spec.id < 5 || r.spec.id == 9) finished.push_back(r);
  }
  const auto resumed = run_study(2, 12, finished);
  EXPECT_EQ(resumed->summary.trials_done, 12);
  EXPECT_EQ(resumed->progress.resumed, 6);
  ASSERT_EQ(resumed->sink.results.size(), 6u);  // only the unfinished ones ran again
  std::map<std::int64_t, search::TrialSpec> by_id;
  for (const auto& t : finished) by_id.emplace(t.spec.id, t.spec);
  for (const auto& t : resumed->sink.results) {
    EXPECT_TRUE(by_id.emplace(t.spec.id, t.spec).second) << "duplicate " << t.spec.id;
  }
  for (const auto& t : full->sink.results) EXPECT_EQ(by_id.at(t.spec.id), t.spec);  // same parameters per index
}

}  // namespace
}  // namespace cs::orchestrator
