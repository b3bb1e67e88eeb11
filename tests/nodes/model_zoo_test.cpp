// The model zoo: parameter and multiply-accumulate counts against hand counts, every family's
// output shape, the user's TorchScript network, and that settings and seeds reach the training.
#include "nodes/model_zoo.hpp"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "base/error.hpp"
#include "nodes/trainer.hpp"

namespace cs::nodes {
namespace {

namespace fs = std::filesystem;

TEST(ModelZoo, ParametersAndMacsMatchHandCounts) {
  const InputShape input{1, 4, 4, 10};
  study::ModelConfig dense;
  dense.family = study::ModelFamily::kDenseLinear;
  dense.linear_layers = 2;
  dense.hidden = 32;
  auto net = make_model(dense, input);
  // Flatten 16 -> Linear(16, 32) -> ReLU -> Linear(32, 10).
  auto size = measure(*net, input, torch::kCPU);
  EXPECT_EQ(size.parameters, 16 * 32 + 32 + 32 * 10 + 10);
  EXPECT_DOUBLE_EQ(size.macs, 16 * 32 + 32 * 10);

  study::ModelConfig cnn;
  cnn.conv_layers = 1;
  cnn.channels = 4;
  cnn.batch_norm = true;
  cnn.linear_layers = 2;
  cnn.hidden = 8;
  net = make_model(cnn, input);
  // Conv(1 -> 4, 3x3, bias) + BatchNorm(4) + ReLU + MaxPool -> 4 x 2 x 2 -> Linear(16, 8) -> ReLU -> Linear(8, 10).
  size = measure(*net, input, torch::kCPU);
  EXPECT_EQ(size.parameters, (4 * 9 + 4) + 2 * 4 + (16 * 8 + 8) + (8 * 10 + 10));
  EXPECT_DOUBLE_EQ(size.macs, 4 * 4 * 4 * 9 + 16 * 8 + 8 * 10);  // 64 conv outputs x 9 taps, then the two linears
}

TEST(ModelZoo, EveryFamilyAndDepthGivesOneScorePerClass) {
  const InputShape input{3, 32, 32, 100};
  torch::NoGradGuard no_grad;
  for (const char* arch : {"simple_cnn", "dense_linear", "dense_poly", "vgg11", "vgg13", "vgg16", "vgg19", "resnet18",
                           "resnet20", "resnet32", "resnet50", "resnet56"}) {
    auto s = study::apply_params({}, {{"model.arch", std::string(arch)}}, 0);
    s.model.width = 0.125;  // small enough for a unit test
    auto net = make_model(s.model, input);
    const auto out = net->forward(torch::zeros({2, 3, 32, 32}));
    EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 100})) << arch;
    EXPECT_GT(measure(*net, input, torch::kCPU).macs, 0.0) << arch;
  }
  // Deeper means more: VGG-19 has more parameters than VGG-16, ResNet-56 more than ResNet-20.
  const auto params = [&](const char* arch) {
    auto s = study::apply_params({}, {{"model.arch", std::string(arch)}}, 0);
    s.model.width = 0.25;
    auto net = make_model(s.model, input);
    return measure(*net, input, torch::kCPU).parameters;
  };
  EXPECT_GT(params("vgg19"), params("vgg16"));
  EXPECT_GT(params("resnet56"), params("resnet20"));
}

/// A walk that only runs the layers, one by one.
struct Unvisited : LayerVisitor {
  void before(const std::string&) override {}
  void after(const std::string&, const torch::nn::Module*, const torch::Tensor&, torch::Tensor&) override {}
};

/// The output and every parameter's gradient of one backward pass through `run`.
std::vector<torch::Tensor> output_and_gradients(Model& net, const std::function<torch::Tensor()>& run) {
  for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();
  const auto out = run();
  out.sum().backward();
  std::vector<torch::Tensor> all{out.detach()};
  for (auto& p : net.parameters()) all.push_back(p.grad().clone());
  return all;
}

TEST(ModelZoo, TheForwardPassPoolingAReluInOnePassTrainsAsTheLayersOneByOneDo) {
  const InputShape input{3, 16, 16, 10};
  for (const char* arch : {"simple_cnn", "vgg11"}) {
    auto s = study::apply_params({}, {{"model.arch", std::string(arch)}}, 0);
    s.model.width = 0.125;
    torch::manual_seed(5);
    auto net = make_model(s.model, input);
    const auto x = torch::randn({4, 3, 16, 16});
    Unvisited visitor;
    const auto fused = output_and_gradients(*net, [&] { return net->forward(x); });
    const auto layered = output_and_gradients(*net, [&] { return net->walk(x, visitor); });
    ASSERT_EQ(fused.size(), layered.size());
    for (std::size_t i = 0; i < fused.size(); ++i) {
      // The same arithmetic in another order would differ in the last bits; this is the same.
      EXPECT_TRUE(torch::equal(fused[i], layered[i])) << arch << ": tensor " << i << " of output and gradients";
    }
  }
}

/// A TorchScript network written by the test itself: one linear map of the flattened image.
fs::path save_scripted(const std::string& name, std::int64_t outputs) {
  torch::jit::Module m("Net");
  m.register_parameter("w", torch::randn({outputs, 28 * 28}) * 0.01, false);
  m.register_parameter("b", torch::zeros({outputs}), false);
  m.define(R"(
def forward(self, x):
    return torch.matmul(x.flatten(1), self.w.t()) + self.b
)");
  const auto path = fs::temp_directory_path() / (name + std::to_string(getpid()) + ".pt");
  m.save(path.string());
  return path;
}

TEST(ModelZoo, TheUsersTorchScriptNetworkLoadsAndItsParametersAreCounted) {
  const auto path = save_scripted("cs-net-", 10);
  study::ModelConfig m;
  m.family = study::ModelFamily::kTorchScript;
  m.path = path.string();
  auto net = make_model(m, {});
  const auto size = measure(*net, {}, torch::kCPU);
  EXPECT_EQ(size.parameters, 10 * 784 + 10);
  EXPECT_TRUE(std::isnan(size.macs));  // a script is not walked layer by layer
  fs::remove(path);
}

TEST(ModelZoo, ATorchScriptFileThatIsMissingBrokenOrTheWrongShapeNamesThePathAndShapes) {
  study::ModelConfig m;
  m.family = study::ModelFamily::kTorchScript;
  const auto error = [&](const std::string& path) -> std::string {
    m.path = path;
    try {
      make_model(m, {});
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error("/nonexistent/net.pt").find("/nonexistent/net.pt: TorchScript file not found"), std::string::npos);
  const auto junk = fs::temp_directory_path() / ("cs-junk-" + std::to_string(getpid()) + ".pt");
  std::ofstream(junk) << "not a zip archive";
  EXPECT_NE(error(junk.string()).find(": not a TorchScript file"), std::string::npos);
  fs::remove(junk);
  const auto five = save_scripted("cs-net5-", 5);
  EXPECT_NE(
      error(five.string()).find("for a batch of shape [2, 1, 28, 28] the network returns [2, 5]; expected [2, 10]"),
      std::string::npos)
      << error(five.string());
  m.path = five.string();
  EXPECT_THROW(make_model(m, {3, 32, 32, 10}), ConfigError);  // 3 x 32 x 32 does not flatten to 784
  fs::remove(five);
}

/// A trainer on 512 real Fashion-MNIST images (64 of them for validation), one thread.
Trainer small_trainer(study::DatasetConfig prep = {}) {
  set_torch_threads(1);
  auto train = load_idx(CS_FASHION_MNIST_DIR, Split::kTrain, 512);
  const auto validation = split_validation(train, 0.125, 1);
  const auto test = load_idx(CS_FASHION_MNIST_DIR, Split::kTest, 128);
  return Trainer(train, validation, test, prep);
}

double first_loss(Trainer& trainer, const study::TrainSettings& s) {
  return trainer.train(s, {}).epochs.at(0).train_loss;
}

TEST(Trainer, TheSameSeedGivesTheSameLossAndADifferentSeedDoesNot) {
  auto trainer = small_trainer();
  study::TrainSettings s;
  s.model.channels = 4;
  s.seed = 5;
  const double a = first_loss(trainer, s);
  EXPECT_DOUBLE_EQ(first_loss(trainer, s), a);
  s.seed = 6;
  EXPECT_NE(first_loss(trainer, s), a);
}

TEST(Trainer, EveryOptimizerOptionReachesTheOptimizer) {
  auto trainer = small_trainer();
  study::TrainSettings s;
  s.model.channels = 4;
  s.training.epochs = 2;
  s.seed = 5;
  const auto losses = [&](const study::TrainSettings& settings) {
    const auto outcome = trainer.train(settings, {});
    return std::make_pair(outcome.epochs.at(0).train_loss, outcome.epochs.at(1).train_loss);
  };
  for (auto name : {study::OptimizerKind::kAdam, study::OptimizerKind::kAdamW, study::OptimizerKind::kRmsprop}) {
    s.optimizer.name = name;
    s.optimizer.lr = 1e-3;
    const auto base = losses(s);
    auto changed = s;
    if (name == study::OptimizerKind::kRmsprop) {
      changed.optimizer.alpha = 0.5;
    } else {
      changed.optimizer.beta1 = 0.5;  // two trials that differ only in beta1 train differently
    }
    EXPECT_NE(losses(changed), base) << static_cast<int>(name);
    changed = s;
    changed.optimizer.eps = 0.1;
    EXPECT_NE(losses(changed), base);
    changed = s;
    changed.optimizer.weight_decay = 0.5;
    EXPECT_NE(losses(changed), base);
  }
  s.optimizer.name = study::OptimizerKind::kSgd;
  s.optimizer.lr = 0.05;
  const auto sgd = losses(s);
  auto nesterov = s;
  nesterov.optimizer.nesterov = true;
  EXPECT_NE(losses(nesterov), sgd);
  // A schedule changes only the second epoch: the first runs at the configured rate.
  auto cosine = s;
  cosine.optimizer.schedule = study::Schedule::kCosine;
  EXPECT_EQ(losses(cosine).first, sgd.first);
  EXPECT_NE(losses(cosine).second, sgd.second);
  auto step = s;
  step.optimizer.schedule = study::Schedule::kStep;
  step.optimizer.gamma = 0.01;
  EXPECT_EQ(losses(step).first, sgd.first);
  EXPECT_NE(losses(step).second, sgd.second);
}

TEST(Trainer, TheTestSetIsMeasuredAfterTheLastEpochAndNotWhenTrainingStoppedEarly) {
  auto trainer = small_trainer();
  study::TrainSettings s;
  s.model.channels = 4;
  s.training.epochs = 2;
  s.optimizer.lr = 0.05;
  auto outcome = trainer.train(s, {});
  ASSERT_EQ(outcome.epochs.size(), 2u);
  std::cerr << "test accuracy " << outcome.test_accuracy << "\n";
  EXPECT_GT(outcome.test_accuracy, 0.3);  // ten classes: chance is 0.1
  EXPECT_EQ(outcome.model, "simple_cnn");
  TrainCallbacks prune;
  prune.on_epoch = [](const EpochOutcome&) { return EpochDecision::kStop; };
  outcome = trainer.train(s, prune);
  EXPECT_TRUE(outcome.stopped);
  EXPECT_TRUE(std::isnan(outcome.test_accuracy));
}

TEST(Trainer, ResizeChannelsAndAugmentationReachTheNetwork) {
  study::DatasetConfig prep;
  prep.resize = 48;
  prep.channels = 3;
  auto trainer = small_trainer(prep);
  study::TrainSettings s;
  s.model.family = study::ModelFamily::kVgg;
  s.model.depth = 11;
  s.model.width = 0.125;
  const auto plain = trainer.train(s, {});
  ASSERT_EQ(plain.epochs.size(), 1u);
  // 48 x 48 x 3 input: the first conv has 3 x 9 taps at 48 x 48 outputs (8 channels at width 1/8).
  EXPECT_GT(plain.macs, 48.0 * 48 * 8 * 27);
  prep.flip = true;
  prep.shift = 2;
  auto augmented = small_trainer(prep);
  EXPECT_NE(augmented.train(s, {}).epochs[0].train_loss, plain.epochs[0].train_loss);
}

TEST(Trainer, ChannelsLastTrainsTheSameNetwork) {
  // The same seed in the other memory format: the same network and data, so the same loss up to
  // the convolutions' summation order. On the CPU nothing is captured as a CUDA graph.
  auto trainer = small_trainer();
  study::TrainSettings s;
  s.model.channels = 4;
  s.seed = 5;
  const auto plain = trainer.train(s, {});
  s.training.channels_last = true;
  const auto last = trainer.train(s, {});
  EXPECT_NEAR(last.epochs.at(0).train_loss, plain.epochs.at(0).train_loss, 1e-3);
  EXPECT_EQ(last.cuda_graph, "");
}

/// A 4-channel SimpleCNN, seed 5, batches of 32, for `epochs`.
study::TrainSettings small_settings(int epochs) {
  study::TrainSettings s;
  s.model.channels = 4;
  s.seed = 5;
  s.training.epochs = epochs;
  s.training.batch_size = 32;
  return s;
}

TEST(Trainer, ABatchSplitAmongTheThreadsTrainsAsOnePassDoes) {
  // Each of 2 threads runs half of every batch and the halves' gradients are summed: the same
  // loss as one pass over the batch up to summation order, the same loss at every run, and one
  // pass where BatchNorm couples the samples or the study turns it off.
  auto trainer = small_trainer();
  set_torch_threads(2);
  if (!batch_split_available()) {
    set_torch_threads(1);
    GTEST_SKIP() << "this LibTorch's OpenMP runtime is not the one nodes/ is built with (a pip torch)";
  }
  auto s = small_settings(2);
  const auto split = trainer.train(s, {});
  EXPECT_EQ(split.split_parts, 2);
  const auto again = trainer.train(s, {});
  s.training.split_batch = false;
  const auto one_pass = trainer.train(s, {});
  EXPECT_EQ(one_pass.split_parts, 1);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(again.epochs.at(e).train_loss, split.epochs.at(e).train_loss);
    EXPECT_NEAR(split.epochs.at(e).train_loss, one_pass.epochs.at(e).train_loss, 1e-4);
    EXPECT_NEAR(split.epochs.at(e).val_accuracy, one_pass.epochs.at(e).val_accuracy, 0.02);
  }
  EXPECT_LT(split.epochs[1].train_loss, split.epochs[0].train_loss);
  s.training.split_batch = true;
  s.training.precision = study::Precision::kBf16;  // autocast is per thread: each part turns it on
  const auto bf16 = trainer.train(s, {});
  EXPECT_EQ(bf16.split_parts, 2);
  EXPECT_NEAR(bf16.epochs.at(0).train_loss, one_pass.epochs.at(0).train_loss, 0.05);
  s.training.precision = study::Precision::kFp32;
  s.model.batch_norm = true;
  EXPECT_EQ(trainer.train(s, {}).split_parts, 1);
  set_torch_threads(1);
}

TEST(Trainer, Bf16WithChannelsLastOnTheCpuLearnsAsFp32Does) {
  // bf16 autocast runs on the CPU too (oneDNN's bf16 kernels where the CPU has them, else
  // emulated): the network still learns, and its loss differs from fp32's only by rounding.
  auto trainer = small_trainer();
  auto s = small_settings(4);
  const auto fp32 = trainer.train(s, {});
  s.training.precision = study::Precision::kBf16;
  s.training.channels_last = true;
  const auto bf16 = trainer.train(s, {});
  ASSERT_FALSE(bf16.diverged);
  ASSERT_EQ(bf16.epochs.size(), 4u);
  EXPECT_NEAR(bf16.epochs[0].train_loss, fp32.epochs[0].train_loss, 0.05);
  EXPECT_LT(bf16.epochs[3].train_loss, bf16.epochs[0].train_loss);
  std::cerr << "val accuracy after 4 epochs: bf16 " << bf16.epochs[3].val_accuracy << ", fp32 "
            << fp32.epochs[3].val_accuracy << "\n";
  EXPECT_GT(bf16.epochs[3].val_accuracy, 0.3);  // chance is 0.1
}

/// The GPU paths, where LibTorch has a CUDA device (the GPU machine); skipped elsewhere.
class TrainerOnCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: LibTorch here is a CPU build or sees no GPU";
  }
  /// 4,100 training images (32 batches of 128 and a partial one of 4, which runs eagerly between
  /// replays) and 512 for validation, on cuda:0.
  static Trainer trainer() {
    auto train = load_idx(CS_FASHION_MNIST_DIR, Split::kTrain, 4612);
    const auto validation = split_validation(train, 0.111, 1);
    const auto test = load_idx(CS_FASHION_MNIST_DIR, Split::kTest, 512);
    return Trainer(train, validation, test, {}, "cuda:0");
  }
  static study::TrainSettings settings() {
    study::TrainSettings s;
    s.training.device = study::Device::kCuda;
    s.training.epochs = 3;
    s.training.batch_size = 128;
    s.optimizer.lr = 0.05;
    s.seed = 3;
    return s;
  }
};

TEST_F(TrainerOnCuda, TheCapturedStepLearnsAsTheEagerOneDoes) {
  auto t = trainer();
  auto s = settings();
  const auto graphed = t.train(s, {});
  EXPECT_EQ(graphed.cuda_graph, "captured");
  s.training.cuda_graphs = false;
  const auto eager = t.train(s, {});
  EXPECT_EQ(eager.cuda_graph, "eager: cuda_graphs = false");
  ASSERT_EQ(graphed.epochs.size(), 3u);
  ASSERT_EQ(eager.epochs.size(), 3u);
  std::cerr << "val accuracy: graph " << graphed.epochs[2].val_accuracy << ", eager " << eager.epochs[2].val_accuracy
            << "; loss " << graphed.epochs[2].train_loss << " / " << eager.epochs[2].train_loss << "\n";
  // Both learn (chance is 0.1), and the graph's losses fall as the eager ones do.
  EXPECT_GT(graphed.epochs[2].val_accuracy, 0.6);
  EXPECT_NEAR(graphed.epochs[2].val_accuracy, eager.epochs[2].val_accuracy, 0.08);
  EXPECT_LT(graphed.epochs[2].train_loss, graphed.epochs[0].train_loss);
  EXPECT_TRUE(std::isfinite(graphed.test_accuracy));
}

TEST_F(TrainerOnCuda, Bf16ChannelsLastAdamAndBatchNormAreCapturedToo) {
  auto t = trainer();
  auto s = settings();
  s.training.precision = study::Precision::kBf16;
  s.training.channels_last = true;
  s.model.batch_norm = true;
  s.optimizer.name = study::OptimizerKind::kAdam;
  s.optimizer.lr = 1e-3;
  const auto outcome = t.train(s, {});
  EXPECT_EQ(outcome.cuda_graph, "captured");
  ASSERT_EQ(outcome.epochs.size(), 3u);
  EXPECT_GT(outcome.epochs[2].val_accuracy, 0.6);
}

TEST_F(TrainerOnCuda, Fp16WithLossScalingIsCapturedAndLearnsAsFp32Does) {
  auto t = trainer();
  auto s = settings();
  const auto fp32 = t.train(s, {});
  s.training.precision = study::Precision::kFp16;
  const auto fp16 = t.train(s, {});
  EXPECT_EQ(fp16.cuda_graph, "captured");
  ASSERT_EQ(fp16.epochs.size(), 3u);
  EXPECT_FALSE(fp16.diverged);
  // Learns (chance is 0.1), and not worse than fp32 beyond the noise of 512 validation images
  // (fp16 ran 0.74 against fp32's 0.66 in one run on the H200, 0.08 apart the other way is a loss).
  EXPECT_GT(fp16.epochs[2].val_accuracy, 0.6);
  EXPECT_GT(fp16.epochs[2].val_accuracy, fp32.epochs[2].val_accuracy - 0.08);
  // The first scale (65,536) may overflow a few steps; a scaler that skipped most would not learn.
  EXPECT_LT(fp16.skipped_steps, 20);
  EXPECT_EQ(fp32.skipped_steps, 0);
}

TEST_F(TrainerOnCuda, EvaluationReplayedFromAGraphCountsAsTheEagerOne) {
  // About 3,100 validation images: one full batch of 1,024 eager (warm-up), one captured and
  // replayed, one replayed, the rest eager. With lr = 0 the weights stay as initialised, so the
  // graph's and the eager evaluation see the same network and must agree.
  auto train = load_idx(CS_FASHION_MNIST_DIR, Split::kTrain, 7200);
  const auto validation = split_validation(train, 0.43, 1);
  ASSERT_GT(validation.count, 3072);
  Trainer t(train, validation, load_idx(CS_FASHION_MNIST_DIR, Split::kTest, 2100), {}, "cuda:0");
  auto s = settings();
  s.training.epochs = 2;
  s.optimizer.lr = 0.0;
  const auto graphed = t.train(s, {});
  s.training.cuda_graphs = false;
  const auto eager = t.train(s, {});
  ASSERT_EQ(graphed.cuda_graph, "captured");
  ASSERT_EQ(graphed.epochs.size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_NEAR(graphed.epochs[e].val_accuracy, eager.epochs[e].val_accuracy,
                1.5 / static_cast<double>(validation.count))
        << e;
  }
  EXPECT_NEAR(graphed.test_accuracy, eager.test_accuracy, 1.5 / 2100);
}

TEST_F(TrainerOnCuda, TheLayerProfilerRunsEagerlyAndSaysSo) {
  auto t = trainer();
  auto s = settings();
  s.training.epochs = 1;
  TrainCallbacks profile;
  profile.profile_every = 10;
  profile.energy_now_j = [] { return 0.0; };
  EXPECT_EQ(t.train(s, profile).cuda_graph, "eager: the layer profiler times layers eagerly");
}

TEST_F(TrainerOnCuda, ADivergingTrialIsFoundAtTheEndOfTheEpoch) {
  // Without activations nothing can die: at this learning rate the weights of the linear
  // network overflow within the first epoch (with ReLUs a huge rate may instead leave every unit
  // dead and the loss finite, as it did on the H200).
  auto t = trainer();
  auto s = settings();
  s.model.activation = study::Activation::kNone;
  s.optimizer.lr = 1e4;
  const auto outcome = t.train(s, {});
  EXPECT_TRUE(outcome.diverged);
  EXPECT_TRUE(outcome.epochs.empty());
}

}  // namespace
}  // namespace cs::nodes
