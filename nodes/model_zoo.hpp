// The networks of [model], built from their settings, and one walk over their layers that the
// layer profiler and the parameter and multiply-accumulate count share. LibTorch types: include
// this only inside nodes/.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nodes/image_dataset.hpp"
#include "study/train_settings.hpp"

namespace cs::nodes {

/// Called around each leaf layer (conv, norm, activation, pool, linear, ...) of a walk.
class LayerVisitor {
 public:
  virtual ~LayerVisitor() = default;
  virtual void before(const std::string& type) = 0;
  /// `layer` is null for a TorchScript network, which is walked as one layer of type "other".
  virtual void after(const std::string& type, const torch::nn::Module* layer, const torch::Tensor& in,
                     torch::Tensor& out) = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  /// The same forward pass, visiting every leaf layer in order.
  virtual torch::Tensor walk(const torch::Tensor& x, LayerVisitor& visitor) = 0;
  virtual std::vector<torch::Tensor> parameters() = 0;
  virtual void set_training(bool on) = 0;
  virtual void to(const torch::Device& device) = 0;
  /// Whether walk() sees the real layers (false for TorchScript), so that multiply-accumulates
  /// can be counted.
  virtual bool walks_layers() const = 0;
  /// Whether a sample's output and gradient depend on the other samples of its batch (BatchNorm
  /// in training), or may (TorchScript, which is not looked into). A batch of a network where
  /// they do not can be split among threads, each part's gradient summed (nodes/trainer.cpp).
  virtual bool couples_samples() = 0;
};

/// Builds a fresh network (weights from LibTorch's generator: seed it first). Throws ConfigError
/// for settings the family cannot build, or a TorchScript file that does not load or fit `input`.
std::unique_ptr<Model> make_model(const study::ModelConfig& config, const InputShape& input);

struct ModelSize {
  std::int64_t parameters = 0;  ///< trainable values
  double macs = 0.0;            ///< multiply-accumulates of conv and linear layers per sample; NaN when unknown
};

/// Counts the parameters, and walks one sample through the network (eval mode, no grad) to count
/// its multiply-accumulates.
ModelSize measure(Model& model, const InputShape& input, const torch::Device& device);

/// The layer type a LibTorch module name (e.g. "torch::nn::Conv2dImpl") belongs to.
std::string layer_type(const std::string& module_name);

}  // namespace cs::nodes
