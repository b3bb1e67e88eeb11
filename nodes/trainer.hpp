// LibTorch training of the SimpleCNN family on an image set; torch stays behind this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nodes/fashion_mnist.hpp"

namespace cs::nodes {

struct TrainSettings {
  int epochs = 1;
  double lr = 0.01;
  double momentum = 0.9;
  std::int64_t batch_size = 64;
  std::int64_t conv_blocks = 2;  ///< conv + ReLU + max-pool blocks
  std::int64_t channels = 16;    ///< output channels of the first block, doubled per block
  std::uint64_t seed = 0;        ///< weight initialisation and shuffling
};

struct EpochOutcome {
  int epoch = 0;  ///< from 1
  double train_loss = 0.0;
  double val_accuracy = 0.0;
  double duration_s = 0.0;
};

enum class EpochDecision { kContinue, kStop };

/// Time and measured energy of one layer type over the profiled training steps.
struct LayerTime {
  std::string type;  ///< conv, linear, activation, pool, norm, other
  double time_s = 0.0;
  double energy_j = 0.0;
};

struct TrainCallbacks {
  /// After every epoch's evaluation; kStop ends training early.
  std::function<EpochDecision(const EpochOutcome&)> on_epoch;
  /// Between an epoch's training and its evaluation (phase accounting).
  std::function<void()> on_eval_start;
  /// Asked before every training and evaluation step; true ends training at once (a time
  /// limit, a signal). Must be cheap: it runs thousands of times per epoch.
  std::function<bool()> should_stop;
  /// Profile every Nth training step layer by layer; 0 = off (and no overhead).
  int profile_every = 0;
  /// Cumulative energy now, to attribute the profiled steps' energy; required when profiling.
  std::function<double()> energy_now_j;
};

struct TrainOutcome {
  std::vector<EpochOutcome> epochs;
  bool diverged = false;          ///< the loss became NaN or infinite
  bool stopped = false;           ///< the callback asked to stop early
  bool halted = false;            ///< should_stop ended it mid-epoch
  std::vector<LayerTime> layers;  ///< by type; empty when profiling is off
  int profiled_steps = 0;
};

/// The layer type a LibTorch module name (e.g. "torch::nn::Conv2dImpl") belongs to.
std::string layer_type(const std::string& module_name);

class Trainer {
 public:
  /// Converts the images to normalised tensors once, on `device` ("cpu", "cuda:0", ...);
  /// trials then reuse them. Throws ConfigError for a device LibTorch cannot use.
  Trainer(const ImageSet& train, const ImageSet& test, const std::string& device = "cpu");
  ~Trainer();
  Trainer(Trainer&&) noexcept;
  Trainer& operator=(Trainer&&) noexcept;

  /// Trains a fresh model.
  TrainOutcome train(const TrainSettings& settings, const TrainCallbacks& callbacks);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// CUDA devices LibTorch can use here (0 for a CPU build or a machine without a GPU).
int cuda_device_count();

/// Sets LibTorch's intra-op threads for this process (and one inter-op thread).
void set_torch_threads(int threads);
std::string torch_version();

}  // namespace cs::nodes
