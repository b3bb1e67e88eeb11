// LibTorch training of the model zoo's networks on an image set; torch stays behind this header.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nodes/image_dataset.hpp"
#include "study/train_settings.hpp"

namespace cs::nodes {

struct EpochOutcome {
  int epoch = 0;  ///< from 1
  double train_loss = 0.0;
  double val_accuracy = 0.0;  ///< on the validation split carved from the training images
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
  std::int64_t skipped_steps = 0;       ///< fp16: optimiser steps skipped because the scaled gradients overflowed
  double test_accuracy = std::nan("");  ///< on the test set, after the last epoch; NaN when it ended early
  std::string model;                    ///< "simple_cnn", "vgg16", ...
  std::int64_t parameters = 0;          ///< trainable values
  double macs = std::nan("");           ///< forward multiply-accumulates per sample (conv + linear); NaN: unknown
  /// CUDA: "captured" when the training step ran as a CUDA graph (with "; evaluation eager: <why>"
  /// when evaluation's own capture failed), else "eager: <why>"; empty on the CPU
  std::string cuda_graph;
  /// The CPU threads each full batch was split among (training.split_batch); 1 when one pass ran it
  int split_parts = 1;
};

class Trainer {
 public:
  /// Converts the images to tensors once (resized and normalised as `prep` says), on `device`
  /// ("cpu", "cuda:0", ...); trials then reuse them. Throws ConfigError for a device LibTorch
  /// cannot use.
  Trainer(const ImageSet& train, const ImageSet& validation, const ImageSet& test, const study::DatasetConfig& prep,
          const std::string& device = "cpu");
  ~Trainer();
  Trainer(Trainer&&) noexcept;
  Trainer& operator=(Trainer&&) noexcept;

  /// Trains a fresh network: the same settings and seed give the same weights and losses.
  TrainOutcome train(const study::TrainSettings& settings, const TrainCallbacks& callbacks);

  struct Impl;  ///< the images as tensors (opaque: torch stays in trainer.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

/// Builds the study's network once for the dataset's shape: a TorchScript file that is missing,
/// not TorchScript or does not fit the shape is a ConfigError naming the path and the shapes.
void check_network(const study::ModelConfig& model, const study::DatasetConfig& dataset);

/// CUDA devices LibTorch can use here (0 for a CPU build or a machine without a GPU).
int cuda_device_count();

/// Whether training.split_batch can split a batch among the CPU threads here: a thread of our
/// parallel region must be one LibTorch sees inside a region and can tell to use one thread.
/// False with fewer than 2 threads, and where LibTorch carries its own OpenMP runtime (the pip
/// torch bundles a libgomp of its own, which our omp_set_num_threads does not reach: there a
/// split step waited forever inside oneDNN).
bool batch_split_available();

/// Sets LibTorch's intra-op threads for this process (and one inter-op thread).
void set_torch_threads(int threads);
std::string torch_version();

}  // namespace cs::nodes
