// The coordinator over in-process transport with scripted workers (no training).
#include "orchestrator/coordinator.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
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

namespace fs = std::filesystem;

search::SearchSpace space() { return search::SearchSpace({{"lr", search::ParamKind::kFloat, 1e-3, 1e-1, true, {}}}); }

/// A worker that answers every assignment at once with a synthetic result.
void scripted_worker(Transport& t, const std::string& site) {
  while (true) {
    t.send(0, Ready{t.rank()});
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
    t.send(0, EpochReport{spec.id, {1, 0.1, r.objective, 10.0, 0.1}});
    const auto decision = t.receive(std::chrono::seconds(10));
    ASSERT_TRUE(decision && std::holds_alternative<Decision>(decision->message));
    EXPECT_FALSE(std::get<Decision>(decision->message).stop);  // no pruner
    t.send(0, ResultReport{r});
  }
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("cs-coord-" + std::to_string(getpid()) + ".h5")).string();
  }
  void TearDown() override {
    fs::remove(path_);
    fs::remove(path_ + ".journal");
  }

  CoordinatorSummary run_study(int workers, std::int64_t budget, std::string& log) {
    InProcessHub hub(workers + 1);
    search::RandomSampler sampler(space(), 1);
    io::StudyMeta meta{"", space(), {}, {"estimate"}, {}};
    store_ = std::make_unique<io::ResultsStore>(path_, meta);
    store_->start_fresh();
    std::ostringstream out;
    Progress progress(out, budget, false);
    std::vector<std::jthread> threads;
    std::vector<int> ranks;
    for (int w = 1; w <= workers; ++w) {
      ranks.push_back(w);
      threads.emplace_back([&hub, w] { scripted_worker(hub.endpoint(w), "site" + std::to_string(w)); });
    }
    Coordinator c(hub.endpoint(0), sampler, *store_, progress, basic_options(budget, ranks));
    auto summary = c.run();
    log = out.str();
    return summary;
  }

  std::string path_;
  std::unique_ptr<io::ResultsStore> store_;
};

TEST_F(CoordinatorTest, RunsExactlyTheBudgetWithDistinctIds) {
  std::string log;
  const auto summary = run_study(3, 20, log);
  EXPECT_EQ(summary.trials_done, 20);
  const auto loaded = io::load_results(path_);
  ASSERT_EQ(loaded.trials.size(), 20u);
  std::set<std::int64_t> ids;
  for (const auto& t : loaded.trials) ids.insert(t.spec.id);
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), 19);
}

TEST_F(CoordinatorTest, SurplusWorkersAreToldOnceAndExitCleanly) {
  std::string log;
  const auto summary = run_study(4, 2, log);
  EXPECT_EQ(summary.trials_done, 2);
  EXPECT_NE(log.find("4 workers for 2 trials; 2 worker(s) will exit without work"), std::string::npos) << log;
  EXPECT_EQ(log.find("workers for"), log.rfind("workers for"));  // said once
}

TEST_F(CoordinatorTest, AWorkerThatLeavesIsReportedAndTheOthersFinish) {
  InProcessHub hub(3);
  search::RandomSampler sampler(space(), 1);
  io::ResultsStore store(path_, {"", space(), {}, {"estimate"}, {}});
  store.start_fresh();
  std::ostringstream out;
  Progress progress(out, 5, false);
  std::jthread good([&] { scripted_worker(hub.endpoint(1), "a"); });
  hub.endpoint(2).send(0, Goodbye{2, "dataset missing"});
  Coordinator c(hub.endpoint(0), sampler, store, progress, basic_options(5, {1, 2}));
  const auto summary = c.run();
  EXPECT_EQ(summary.trials_done, 5);
  ASSERT_EQ(summary.notes.size(), 1u);
  EXPECT_NE(summary.notes[0].find("dataset missing"), std::string::npos);
}

TEST_F(CoordinatorTest, ResumeRunsOnlyTheUnfinishedTrialsWithTheSameParameters) {
  std::string log;
  run_study(2, 12, log);
  const auto full = io::load_results(path_);
  // An interrupted run: keep only the journal records of trials 0-4 and 9.
  {
    io::ResultsStore partial(path_, {"", space(), {}, {"estimate"}, {}});
    partial.start_fresh();
    for (const auto& r : full.trials) {
      if (r.spec.id < 5 || r.spec.id == 9) partial.append(r);
    }
    partial.commit();
  }
  InProcessHub hub(3);
  search::RandomSampler sampler(space(), 1);
  io::ResultsStore store(path_, {"", space(), {}, {"estimate"}, {}});
  const auto report = store.open_for_resume();
  EXPECT_EQ(report.recovered, 6u);
  std::ostringstream out;
  Progress progress(out, 12, false);
  std::vector<std::jthread> threads;
  for (int w = 1; w <= 2; ++w) threads.emplace_back([&hub, w] { scripted_worker(hub.endpoint(w), "s"); });
  Coordinator c(hub.endpoint(0), sampler, store, progress, basic_options(12, {1, 2}));
  c.resume(store.results());
  const auto summary = c.run();
  EXPECT_EQ(summary.trials_done, 12);
  const auto resumed = io::load_results(path_);
  ASSERT_EQ(resumed.trials.size(), 12u);
  std::map<std::int64_t, search::TrialSpec> by_id;
  for (const auto& t : resumed.trials)
    EXPECT_TRUE(by_id.emplace(t.spec.id, t.spec).second) << "duplicate " << t.spec.id;
  for (const auto& t : full.trials) EXPECT_EQ(by_id.at(t.spec.id), t.spec);  // same parameters per index
}

}  // namespace
}  // namespace cs::orchestrator
