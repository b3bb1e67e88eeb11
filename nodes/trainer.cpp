// The SimpleCNN model and its SGD training loop.
#include "nodes/trainer.hpp"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::nodes {

namespace {

// Fashion-MNIST pixel mean and standard deviation over the training set.
constexpr double kPixelMean = 0.2860;
constexpr double kPixelStd = 0.3530;

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

/// Now, once the GPU has finished what was queued: CUDA kernels run asynchronously, so a
/// layer's time is only its own after a synchronisation (profiled steps only).
Clock::time_point settled_now(bool cuda) {
  if (cuda) torch::cuda::synchronize();
  return Clock::now();
}

/// Per-type times of one profiled training step.
class LayerProfiler {
 public:
  explicit LayerProfiler(bool cuda) : cuda_(cuda) {}
  bool cuda() const { return cuda_; }
  void forward(const std::string& type, Clock::duration d) { add(type, d); }
  /// Registers a hook on a layer's output: backward of that layer starts when its output's
  /// gradient is ready, and ends when the gradient of its input is (the next hook, in reverse).
  void watch(const std::string& type, torch::Tensor& output) {
    const std::size_t index = layers_.size();
    layers_.push_back(type);
    stamps_.push_back({});
    output.register_hook([this, index](torch::Tensor grad) {
      stamps_[index] = settled_now(cuda_);
      return grad;
    });
  }
  /// After loss.backward(): the span between consecutive stamps is the layer's backward.
  void backward_done(Clock::time_point end) {
    for (std::size_t i = 0; i < layers_.size(); ++i) add(layers_[i], (i == 0 ? end : stamps_[i - 1]) - stamps_[i]);
  }
  const std::map<std::string, Clock::duration>& totals() const { return totals_; }

 private:
  void add(const std::string& type, Clock::duration d) { totals_[type] += std::max(d, Clock::duration::zero()); }
  bool cuda_;
  std::vector<std::string> layers_;
  std::vector<Clock::time_point> stamps_;
  std::map<std::string, Clock::duration> totals_;
};

struct SimpleCnnImpl : torch::nn::Module {
  SimpleCnnImpl(std::int64_t blocks, std::int64_t channels, std::int64_t side) {
    std::int64_t in = 1;
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t out = channels << std::min<std::int64_t>(b, 4);
      features->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)));
      features->push_back(torch::nn::ReLU());
      if (side >= 2) {
        features->push_back(torch::nn::MaxPool2d(2));
        side /= 2;
      }
      in = out;
    }
    register_module("features", features);
    classifier = register_module("classifier", torch::nn::Sequential(torch::nn::Linear(in * side * side, 64),
                                                                     torch::nn::ReLU(), torch::nn::Linear(64, 10)));
  }

  torch::Tensor forward(torch::Tensor x) { return classifier->forward(features->forward(x).flatten(1)); }

  /// The same forward, one layer at a time: each layer's forward time goes to its type, and a
  /// gradient hook on each layer's output stamps when backward reaches it.
  torch::Tensor profiled_forward(torch::Tensor x, LayerProfiler& profiler);

  torch::nn::Sequential features;
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(SimpleCnn);

torch::Tensor SimpleCnnImpl::profiled_forward(torch::Tensor x, LayerProfiler& profiler) {
  const auto run = [&](torch::nn::AnyModule& layer) {
    const std::string type = layer_type(layer.ptr()->name());
    const auto t0 = settled_now(profiler.cuda());
    x = layer.forward(x);
    profiler.forward(type, settled_now(profiler.cuda()) - t0);
    profiler.watch(type, x);
  };
  for (auto& layer : *features) run(layer);
  x = x.flatten(1);
  for (auto& layer : *classifier) run(layer);
  return x;
}

torch::Tensor to_images(const ImageSet& set) {
  auto t =
      torch::from_blob(const_cast<std::uint8_t*>(set.pixels.data()), {set.count, 1, set.rows, set.cols}, torch::kUInt8)
          .to(torch::kFloat32)
          .div_(255.0);
  return t.sub_(kPixelMean).div_(kPixelStd);
}

torch::Tensor to_labels(const ImageSet& set) {
  return torch::from_blob(const_cast<std::uint8_t*>(set.labels.data()), {set.count}, torch::kUInt8).to(torch::kInt64);
}

}  // namespace

struct Trainer::Impl {
  torch::Device device{torch::kCPU};
  torch::Tensor train_x, train_y, test_x, test_y;
  std::int64_t side = 28;
};

Trainer::Trainer(const ImageSet& train, const ImageSet& test, const std::string& device)
    : impl_(std::make_unique<Impl>()) {
  if (train.count == 0 || test.count == 0) throw ConfigError("the training and test sets must not be empty");
  try {
    impl_->device = torch::Device(device);
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("'{}' is not a LibTorch device (expected cpu or cuda:N)", device));
  }
  if (impl_->device.is_cuda() && impl_->device.index() >= cuda_device_count()) {
    throw ConfigError(fmt::format("device {}: LibTorch here has {} CUDA device(s) (a CPU build, or no GPU)", device,
                                  cuda_device_count()));
  }
  impl_->train_x = to_images(train).to(impl_->device);
  impl_->train_y = to_labels(train).to(impl_->device);
  impl_->test_x = to_images(test).to(impl_->device);
  impl_->test_y = to_labels(test).to(impl_->device);
  impl_->side = train.rows;
}

Trainer::~Trainer() = default;
Trainer::Trainer(Trainer&&) noexcept = default;
Trainer& Trainer::operator=(Trainer&&) noexcept = default;

namespace {

/// The profiled steps so far: time per layer type, their measured energy, and how many.
struct LayerTally {
  std::map<std::string, Clock::duration> time;
  Clock::duration total{};
  double energy_j = 0.0;
  int steps = 0;

  void add(const LayerProfiler& profiler, Clock::duration step_time, double step_energy_j) {
    Clock::duration in_layers{};
    for (const auto& [type, d] : profiler.totals()) {
      time[type] += d;
      in_layers += d;
    }
    time["other"] += std::max(step_time - in_layers, Clock::duration::zero());  // loss, optimiser, data
    total += step_time;
    energy_j += step_energy_j;
    ++steps;
  }

  /// The measured energy of the profiled steps, attributed to the layer types by time share.
  std::vector<LayerTime> shares() const {
    std::vector<LayerTime> out;
    for (const auto& [type, d] : time) {
      const double share = total.count() > 0 ? seconds(d) / seconds(total) : 0.0;
      out.push_back({type, seconds(d), energy_j * share});
    }
    return out;
  }
};

/// How a pass over the training images ended.
struct Pass {
  double mean_loss = 0.0;
  bool diverged = false;  ///< the loss became NaN or infinite
  bool halted = false;    ///< should_stop said so
};

/// One pass over the training images in a seeded random order. `step` counts steps across
/// epochs (profiling cadence).
Pass train_epoch(SimpleCnn& model, torch::optim::Optimizer& optimiser, const torch::Tensor& x, const torch::Tensor& y,
                 const torch::Device& device, const TrainSettings& s, const TrainCallbacks& callbacks,
                 std::int64_t& step, LayerTally& tally) {
  model->train();
  const std::int64_t n = x.size(0);
  const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kInt64)).to(device);
  double loss_sum = 0.0;
  std::int64_t batches = 0;
  for (std::int64_t start = 0; start < n; start += s.batch_size, ++step) {
    if (callbacks.should_stop && callbacks.should_stop()) return {0.0, false, true};
    const auto idx = order.slice(0, start, std::min(start + s.batch_size, n));
    const bool profile = callbacks.profile_every > 0 && step % callbacks.profile_every == 0;
    LayerProfiler profiler(device.is_cuda());
    const double energy_before_j = profile ? callbacks.energy_now_j() : 0.0;
    const auto step_start = settled_now(profile && profiler.cuda());
    optimiser.zero_grad();
    const auto images = x.index_select(0, idx);
    auto loss = torch::nn::functional::cross_entropy(
        profile ? model->profiled_forward(images, profiler) : model->forward(images), y.index_select(0, idx));
    const double value = loss.item<double>();
    if (!std::isfinite(value)) return {0.0, true, false};
    loss.backward();
    if (profile) profiler.backward_done(settled_now(profiler.cuda()));
    optimiser.step();
    if (profile) {
      tally.add(profiler, settled_now(profiler.cuda()) - step_start, callbacks.energy_now_j() - energy_before_j);
    }
    loss_sum += value;
    ++batches;
  }
  return {loss_sum / static_cast<double>(std::max<std::int64_t>(batches, 1)), false, false};
}

/// Accuracy on the test images, in batches of 1024 under no-grad; nothing when should_stop ended it.
std::optional<double> evaluate(SimpleCnn& model, const torch::Tensor& x, const torch::Tensor& y,
                               const std::function<bool()>& should_stop) {
  model->eval();
  torch::NoGradGuard no_grad;
  double correct = 0.0;
  const std::int64_t m = x.size(0);
  for (std::int64_t start = 0; start < m; start += 1024) {
    if (should_stop && should_stop()) return std::nullopt;
    const auto logits = model->forward(x.slice(0, start, std::min(start + 1024, m)));
    correct += logits.argmax(1).eq(y.slice(0, start, std::min(start + 1024, m))).sum().item<double>();
  }
  return correct / static_cast<double>(m);
}

}  // namespace

TrainOutcome Trainer::train(const TrainSettings& s, const TrainCallbacks& callbacks) {
  torch::manual_seed(s.seed);
  SimpleCnn model(s.conv_blocks, s.channels, impl_->side);
  model->to(impl_->device);
  torch::optim::SGD optimiser(model->parameters(), torch::optim::SGDOptions(s.lr).momentum(s.momentum));
  TrainOutcome outcome;
  LayerTally tally;
  std::int64_t step = 0;
  for (int epoch = 1; epoch <= s.epochs; ++epoch) {
    const auto t0 = Clock::now();
    const auto pass =
        train_epoch(model, optimiser, impl_->train_x, impl_->train_y, impl_->device, s, callbacks, step, tally);
    outcome.diverged = pass.diverged;
    outcome.halted = pass.halted;
    if (pass.diverged || pass.halted) break;
    if (callbacks.on_eval_start) callbacks.on_eval_start();
    const auto accuracy = evaluate(model, impl_->test_x, impl_->test_y, callbacks.should_stop);
    if (!accuracy) {
      outcome.halted = true;
      break;
    }
    outcome.epochs.push_back({epoch, pass.mean_loss, *accuracy, seconds(Clock::now() - t0)});
    if (callbacks.on_epoch && callbacks.on_epoch(outcome.epochs.back()) == EpochDecision::kStop) {
      outcome.stopped = epoch < s.epochs;
      break;
    }
  }
  outcome.layers = tally.shares();
  outcome.profiled_steps = tally.steps;
  return outcome;
}

std::string layer_type(const std::string& module_name) {
  const auto has = [&](const char* part) { return module_name.find(part) != std::string::npos; };
  if (has("Conv")) return "conv";
  if (has("Linear") || has("Bilinear")) return "linear";
  if (has("Norm")) return "norm";
  if (has("Pool")) return "pool";
  if (has("ReLU") || has("ELU") || has("Sigmoid") || has("Tanh") || has("GELU") || has("SiLU") || has("Softmax") ||
      has("Mish") || has("Hardswish")) {
    return "activation";
  }
  return "other";
}

int cuda_device_count() { return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

void set_torch_threads(int threads) {
  torch::set_num_threads(std::max(threads, 1));
  static bool interop_set = false;  // LibTorch allows setting inter-op threads only once
  if (!interop_set) {
    try {
      torch::set_num_interop_threads(1);
    } catch (const std::exception&) {
    }
    interop_set = true;
  }
}

std::string torch_version() { return TORCH_VERSION; }

}  // namespace cs::nodes
