// The simulator: exact against a hand calculation, deferral on a generated daily cycle, the
// carbon budget, and the Bayesian sampler driving virtual workers.
#include "orchestrator/simulate.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "tests/test_dir.hpp"

namespace cs::orchestrator {
namespace {

namespace fs = std::filesystem;

class Simulate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cs::testing::make_test_dir("cs-sim");
    // A generated, synthetic daily cycle (not a real grid): 300 g/kWh at midnight, 100 at noon.
    std::ofstream trace(dir_ / "cycle.csv");
    trace << "Time,Carbon Intensity\n";
    for (int h = 0; h <= 24 * 20; ++h) {
      const auto t = static_cast<std::time_t>(1'590'969'600 + h * 3600);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char text[32];
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
      trace << text << ',' << 200.0 + 100.0 * std::cos(2.0 * std::numbers::pi * h / 24.0) << '\n';
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  study::StudyConfig study(const std::string& extra, const std::string& sites, std::int64_t trials,
                           const std::string& strategy = "random") {
    const auto text = fmt::format(
        "[study]\nname = \"sim\"\nseed = 5\nbudget_trials = {}\n[search]\nstrategy = \"{}\"\n"
        "[search.space.x1]\ntype = \"float\"\nlow = -5.0\nhigh = 10.0\n[search.space.x2]\ntype = \"float\"\n"
        "low = 0.0\nhigh = 15.0\n[model]\nfamily = \"function\"\nfunction = \"branin\"\n"
        "[time]\nstart = \"2020-06-01T00:00:00Z\"\n{}{}",
        trials, strategy, extra, sites);
    std::ofstream((dir_ / "study.toml")) << text;
    return study::load_study((dir_ / "study.toml").string());
  }

  SimulationSummary run(const study::StudyConfig& config, int workers_per_site,
                        std::vector<io::TrialResult>* out = nullptr) {
    io::ResultsStore store((dir_ / "sim.h5").string(),
                           io::StudyMeta{config.toml_text, config.space, config.sites, {"model"}, {}});
    std::ostringstream sink;
    Progress progress(sink, config.budget_trials, ProgressStyle::kLines);
    const auto s = simulate(config, workers_per_site, scheduling::CostModel::analytic(config), store, progress);
    if (out) *out = store.results();
    return s;
  }

  /// 50 trials of 1 h at 100 W on two workers at 100 g/kWh (10 g each) under a carbon budget.
  SimulationSummary run_with_budget(double budget_g) {
    return run(study("[simulate]\ntrial_duration = \"1h\"\nduration_per_unit = 0\ntrial_power_w = 100\n"
                     "[scheduling]\npolicy = \"carbon_budget\"\nbudget_g_co2 = " +
                         fmt::format("{}", budget_g) + "\n",
                     "[[sites]]\nname = \"a\"\npue = 1.0\nintensity_g_per_kwh = 100\n", 50),
               2);
  }

  const std::string cycle_site = "[[sites]]\nname = \"cycle\"\npue = 1.0\ntrace = \"cycle.csv\"\n";
  fs::path dir_;
};

TEST_F(Simulate, IsExactAgainstAHandCalculation) {
  // 1 worker, 1 h per trial at 100 W, PUE 1.5, 100 g/kWh: 0.1 kWh x 1.5 x 100 = 15 g per trial.
  const auto config = study("[simulate]\ntrial_duration = \"1h\"\nduration_per_unit = 0\ntrial_power_w = 100\n",
                            "[[sites]]\nname = \"a\"\npue = 1.5\nintensity_g_per_kwh = 100\n", 10);
  std::vector<io::TrialResult> results;
  const auto s = run(config, 1, &results);
  EXPECT_EQ(s.trials, 10);
  EXPECT_NEAR(s.makespan_s, 10 * 3600.0, 1e-6);
  EXPECT_NEAR(s.device_energy_j, 10 * 3.6e5, 1e-6);
  EXPECT_NEAR(s.trial_co2_g, 150.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.idle_energy_j, 0.0);  // fifo keeps the one worker busy
  std::set<std::int64_t> ids;
  for (const auto& r : results) ids.insert(r.spec.id);
  EXPECT_EQ(ids.size(), 10u);
}

TEST_F(Simulate, DeferralShiftsWorkIntoGreenHoursAndPaysInMakespanAndIdleEnergy) {
  const std::string cost = "[simulate]\ntrial_duration = \"1h\"\nduration_per_unit = 0\ntrial_power_w = 200\n";
  const auto fifo = run(study(cost + "[scheduling]\npolicy = \"fifo\"\nidle_power_w = 20\n", cycle_site, 48), 2);
  const auto oracle =
      run(study(cost + "[scheduling]\npolicy = \"deferral\"\nforecast = \"oracle\"\nmax_delay = \"12h\"\n"
                       "idle_power_w = 20\n",
                cycle_site, 48),
          2);
  EXPECT_EQ(fifo.trials, 48);
  EXPECT_EQ(oracle.trials, 48);
  EXPECT_LT(oracle.trial_co2_g, 0.8 * fifo.trial_co2_g);  // the cycle spans 100-300 g/kWh
  EXPECT_GT(oracle.makespan_s, fifo.makespan_s);
  EXPECT_GT(oracle.idle_energy_j, 0.0);  // waiting is not free
  EXPECT_NEAR(oracle.device_energy_j, fifo.device_energy_j, 1e-6);
}

TEST_F(Simulate, CarbonBudgetStopsDispatchingAndSaysHowFarItGot) {
  const auto s = run_with_budget(100);
  // 10 g per trial: ten fit into the budget.
  EXPECT_EQ(s.trials, 10);
  EXPECT_LE(s.trial_co2_g, 100.0 + 1e-9);
  EXPECT_NE(s.stopped.find("carbon budget"), std::string::npos);
}

TEST_F(Simulate, CarbonBudgetStillStartsATrialThatFitsWhenSeveralWorkersAreIdle) {
  // 10 g per trial, two workers that finish together: after the first wave (20 g) one more trial
  // fits into 35 g and must start although the second idle worker's would not.
  const auto s = run_with_budget(35);
  EXPECT_EQ(s.trials, 3);
  EXPECT_NEAR(s.trial_co2_g, 30.0, 1e-9);
  EXPECT_NE(s.stopped.find("30 gCO2 committed"), std::string::npos) << s.stopped;
}

TEST_F(Simulate, RunsTheBayesianSamplerOnVirtualWorkers) {
  std::vector<io::TrialResult> results;
  const auto s = run(study("", cycle_site, 40, "bayes"), 3, &results);
  EXPECT_EQ(s.trials, 40);
  double best_first = -1e300, best_last = -1e300;
  for (const auto& r : results) {
    EXPECT_EQ(r.spec.arm, "bayes");
    (r.spec.id < 10 ? best_first : best_last) = std::max(r.spec.id < 10 ? best_first : best_last, r.objective);
  }
  EXPECT_GT(best_last, best_first);  // the model-guided trials beat the initial design
}

}  // namespace
}  // namespace cs::orchestrator
