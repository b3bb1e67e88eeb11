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

struct TrainOutcome {
  std::vector<EpochOutcome> epochs;
  bool diverged = false;  ///< the loss became NaN or infinite
  bool stopped = false;   ///< the callback asked to stop early
};

class Trainer {
 public:
  /// Converts the images to normalised tensors once; trials then reuse them.
  Trainer(const ImageSet& train, const ImageSet& test);
  ~Trainer();
  Trainer(Trainer&&) noexcept;
  Trainer& operator=(Trainer&&) noexcept;

  /// Trains a fresh model. `on_epoch` runs after every epoch's evaluation.
  TrainOutcome train(const TrainSettings& settings, const std::function<EpochDecision(const EpochOutcome&)>& on_epoch);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Sets LibTorch's intra-op threads for this process (and one inter-op thread).
void set_torch_threads(int threads);
std::string torch_version();

}  // namespace cs::nodes
