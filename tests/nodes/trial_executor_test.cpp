// One real trial: LibTorch training on 256 real images, metered and priced.
#include "nodes/trial_executor.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace cs::nodes {
namespace {

study::StudyConfig small_study() {
  auto c = study::parse_study(R"([study]
name = "unit"
budget_trials = 1
[search.space.lr]
type = "float"
low = 1e-3
high = 0.1
[dataset]
train_subset = 256
test_subset = 128
[training]
epochs = 2
channels = 4
[[sites]]
name = "s"
pue = 1.5
intensity_g_per_kwh = 400
[energy]
interval = "10ms"
)",
                              "unit.toml");
  c.dataset.path = CS_FASHION_MNIST_DIR;
  return c;
}

TEST(TrialExecutor, CompletesWithEnergyCarbonAndEpochs) {
  const auto config = small_study();
  set_torch_threads(1);
  const auto runner = make_trial_executor(config, {3, "hostA", config.sites[0], 1});
  int reported = 0;
  const auto r = runner->run(
      {5, "random", {{"lr", 0.05}, {"batch_size", std::int64_t{32}}}},
      [&](const io::EpochRecord& e) {
        ++reported;
        EXPECT_EQ(e.epoch, reported);
        return EpochDecision::kContinue;
      },
      nullptr);
  EXPECT_EQ(r.status, search::TrialStatus::kCompleted) << r.error;
  EXPECT_EQ(reported, 2);
  EXPECT_EQ(r.epochs_done, 2);
  EXPECT_EQ(r.spec.id, 5);
  EXPECT_EQ(r.site, "s");
  EXPECT_EQ(r.rank, 3);
  EXPECT_GT(r.val_accuracy, 0.1);  // better than chance on 10 classes after 2 epochs
  EXPECT_GT(r.energy_j, 0.0);
  EXPECT_DOUBLE_EQ(r.facility_energy_j, r.energy_j * 1.5);
  EXPECT_NEAR(r.co2_g, r.energy_j * 1.5 / 3.6e6 * 400.0, 1e-12);
  // The epochs are a part of the trial (which also builds the model and evaluates the test set):
  // each spent energy, and together they are never more than the trial's, so nothing counts twice.
  // How large a part they are depends on the machine's load, so no ratio is asserted.
  EXPECT_GT(r.epochs[0].energy_j, 0.0);
  EXPECT_GT(r.epochs[1].energy_j, 0.0);
  EXPECT_LE(r.epochs[0].energy_j + r.epochs[1].energy_j, r.energy_j * (1.0 + 1e-9));
  EXPECT_LE(r.train_energy_j + r.eval_energy_j, r.energy_j * (1.0 + 1e-9));
  EXPECT_GT(r.end_unix_s, r.start_unix_s);
}

TEST(TrialExecutor, DivergenceIsAStatusNotAnException) {
  const auto config = small_study();
  const auto runner = make_trial_executor(config, {1, "h", config.sites[0], 1});
  const auto r = runner->run({0, "random", {{"lr", 10.0}}}, nullptr, nullptr);
  EXPECT_EQ(r.status, search::TrialStatus::kDiverged);
  EXPECT_GT(r.energy_j, 0.0);  // the energy it spent still counts
}

TEST(TrialExecutor, StoppingAfterTheFirstEpochIsPruned) {
  const auto config = small_study();
  const auto runner = make_trial_executor(config, {1, "h", config.sites[0], 1});
  const auto r = runner->run(
      {0, "random", {{"lr", 0.01}}}, [](const io::EpochRecord&) { return EpochDecision::kStop; }, nullptr);
  EXPECT_EQ(r.status, search::TrialStatus::kPruned);
  EXPECT_EQ(r.epochs_done, 1);
}

TEST(TrialExecutor, BadParameterValueIsAFailedTrial) {
  const auto config = small_study();
  const auto runner = make_trial_executor(config, {1, "h", config.sites[0], 1});
  const auto r = runner->run({0, "random", {{"batch_size", std::string("big")}}}, nullptr, nullptr);
  EXPECT_EQ(r.status, search::TrialStatus::kFailed);
  EXPECT_NE(r.error.find("batch_size"), std::string::npos);
}

TEST(TrialExecutor, AStopCheckEndsTheTrialMidEpochWithItsStatusAndEnergy) {
  const auto config = small_study();
  const auto runner = make_trial_executor(config, {1, "h", config.sites[0], 1});
  for (const auto status : {search::TrialStatus::kTimeout, search::TrialStatus::kInterrupted}) {
    int steps = 0;  // 256 images in batches of 8: 32 steps an epoch; stop at the 5th
    const auto r = runner->run({0, "random", {{"lr", 0.01}, {"batch_size", std::int64_t{8}}}}, nullptr,
                               [&]() -> std::optional<search::TrialStatus> {
                                 if (++steps >= 5) return status;
                                 return std::nullopt;
                               });
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.epochs_done, 0);  // stopped inside the first epoch, not after it
    EXPECT_EQ(steps, 5);          // asked once per step, and not again once it said stop
    EXPECT_GT(r.energy_j, 0.0);   // what it spent is kept
    EXPECT_FALSE(r.error.empty());
  }
}

}  // namespace
}  // namespace cs::nodes

namespace cs::nodes {
namespace {

TEST(TrainerDevice, AnUnusableDeviceIsAConfigErrorThatSaysWhy) {
  const auto train = load_idx(CS_FASHION_MNIST_DIR, Split::kTrain, 16);
  const auto test = load_idx(CS_FASHION_MNIST_DIR, Split::kTest, 16);
  const study::DatasetConfig prep;
  EXPECT_THROW(Trainer(train, test, test, prep, "banana"), ConfigError);
  if (cuda_device_count() == 0) {
    try {
      Trainer(train, test, test, prep, "cuda:0");
      FAIL();
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("0 CUDA device(s)"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(torch_device(study::Device::kCpu, 3), "cpu");
  if (cuda_device_count() > 0) {
    EXPECT_EQ(torch_device(study::Device::kCuda, cuda_device_count()), "cuda:0");  // wraps around
  }
}

}  // namespace
}  // namespace cs::nodes
