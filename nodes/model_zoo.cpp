// The model zoo: simple_cnn, dense_linear, dense_poly, vgg, resnet (as sequences of layers and
// residual blocks) and the user's TorchScript network.
#include "nodes/model_zoo.hpp"

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "nodes/conv3x3.hpp"
#include "nodes/max_pool.hpp"

namespace cs::nodes {

namespace {

namespace nn = torch::nn;
using study::Activation;
using study::ModelConfig;
using study::ModelFamily;

/// x + shortcut(x) through a body of layers, then a ReLU: the unit of a ResNet.
struct ResidualImpl : nn::Module {
  ResidualImpl(nn::Sequential body_layers, nn::Sequential shortcut_layers)
      : body(register_module("body", std::move(body_layers))),
        shortcut(register_module("shortcut", std::move(shortcut_layers))),
        relu(register_module("relu", nn::ReLU())) {}
  torch::Tensor forward(torch::Tensor x) {
    auto skip = shortcut->is_empty() ? x : shortcut->forward(x);
    return relu->forward(body->forward(x) + skip);
  }
  nn::Sequential body, shortcut;
  nn::ReLU relu;
};
TORCH_MODULE(Residual);

torch::Tensor walk_sequence(nn::Sequential& layers, torch::Tensor x, LayerVisitor& visitor);

void visit_leaf(const std::shared_ptr<nn::Module>& layer, const std::function<torch::Tensor()>& run,
                const torch::Tensor& in, torch::Tensor& out, LayerVisitor& visitor) {
  const auto type = layer_type(layer->name());
  visitor.before(type);
  out = run();
  visitor.after(type, layer.get(), in, out);
}

torch::Tensor walk_residual(ResidualImpl& block, const torch::Tensor& x, LayerVisitor& visitor) {
  auto y = walk_sequence(block.body, x, visitor);
  auto skip = block.shortcut->is_empty() ? x : walk_sequence(block.shortcut, x, visitor);
  const auto sum = y + skip;
  torch::Tensor out;
  visit_leaf(
      block.relu.ptr(), [&] { return block.relu->forward(sum); }, sum, out, visitor);
  return out;
}

torch::Tensor walk_sequence(nn::Sequential& layers, torch::Tensor x, LayerVisitor& visitor) {
  for (auto& layer : *layers) {
    if (auto block = std::dynamic_pointer_cast<ResidualImpl>(layer.ptr())) {
      x = walk_residual(*block, x, visitor);
      continue;
    }
    torch::Tensor out;
    visit_leaf(
        layer.ptr(), [&] { return layer.forward(x); }, x, out, visitor);
    x = out;
  }
  return x;
}

/// layers->forward(x), with each ReLU that a 2 x 2 max-pool follows run together with it as
/// relu_max_pool_2x2: one pass over the activation instead of four (bench/kernels_bench).
torch::Tensor forward_sequence(nn::Sequential& layers, torch::Tensor x) {
  for (auto layer = layers->begin(); layer != layers->end(); ++layer) {
    const auto next = std::next(layer);
    if (next != layers->end() && layer->ptr()->as<nn::ReLU>() != nullptr && next->ptr()->as<MaxPool2x2>() != nullptr) {
      x = relu_max_pool_2x2(x);
      layer = next;
      continue;
    }
    x = layer->forward(x);
  }
  return x;
}

struct NetImpl : nn::Module {
  explicit NetImpl(nn::Sequential l) : layers(register_module("layers", std::move(l))) {}
  nn::Sequential layers;
};
TORCH_MODULE(Net);

/// A network of our own families: one Sequential of layers and residual blocks.
class LayerModel final : public Model {
 public:
  explicit LayerModel(nn::Sequential layers) : net_(std::move(layers)) {}
  torch::Tensor forward(const torch::Tensor& x) override { return forward_sequence(net_->layers, x); }
  torch::Tensor walk(const torch::Tensor& x, LayerVisitor& visitor) override {
    return walk_sequence(net_->layers, x, visitor);
  }
  std::vector<torch::Tensor> parameters() override { return net_->parameters(); }
  void set_training(bool on) override { net_->train(on); }
  void to(const torch::Device& device) override { net_->to(device); }
  bool walks_layers() const override { return true; }
  bool couples_samples() override {
    const auto modules = net_->modules();
    return std::any_of(modules.begin(), modules.end(),
                       [](const auto& m) { return m->name().find("BatchNorm") != std::string::npos; });
  }

 private:
  Net net_;
};

/// The user's network, as torch::jit::load gives it.
class ScriptModel final : public Model {
 public:
  explicit ScriptModel(torch::jit::Module module) : module_(std::move(module)) {
    for (auto p : module_.parameters()) p.set_requires_grad(true);
  }
  torch::Tensor forward(const torch::Tensor& x) override { return module_.forward({x}).toTensor(); }
  torch::Tensor walk(const torch::Tensor& x, LayerVisitor& visitor) override {
    visitor.before("other");
    auto out = forward(x);
    visitor.after("other", nullptr, x, out);
    return out;
  }
  std::vector<torch::Tensor> parameters() override {
    std::vector<torch::Tensor> out;
    for (const auto& p : module_.parameters()) out.push_back(p);
    return out;
  }
  void set_training(bool on) override { module_.train(on); }
  void to(const torch::Device& device) override { module_.to(device); }
  bool walks_layers() const override { return false; }
  bool couples_samples() override { return true; }

 private:
  torch::jit::Module module_;
};

/// The spatial size the layers so far leave, tracked while a family is built.
struct Shape {
  std::int64_t channels, rows, cols;
  void pool() {
    rows /= 2;
    cols /= 2;
  }
  bool can_pool() const { return rows >= 2 && cols >= 2; }
};

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

/// Hidden linear layers (with the activation after each), then the classifier.
void add_classifier(nn::Sequential& layers, std::int64_t in, const std::vector<std::int64_t>& widths,
                    Activation activation, int classes) {
  for (auto width : widths) {
    layers->push_back(nn::Linear(in, width));
    if (activation == Activation::kRelu) layers->push_back(nn::ReLU());
    in = width;
  }
  layers->push_back(nn::Linear(in, classes));
}

/// The i-th of widths halving from `first`: not below the class count after the first.
std::int64_t halved(std::int64_t first, std::int64_t i, int classes) {
  return i == 0 ? first : std::max<std::int64_t>(first >> std::min<std::int64_t>(i, 62), classes);
}

/// N linear layers: N - 1 hidden ones of `width(i)`, the last one the classifier.
template <typename Width>
std::vector<std::int64_t> hidden_widths(std::int64_t linear_layers, Width width) {
  std::vector<std::int64_t> widths;
  for (std::int64_t i = 0; i + 1 < linear_layers; ++i) widths.push_back(std::max<std::int64_t>(width(i), 1));
  return widths;
}

/// M blocks of Conv3x3 (+ BatchNorm) (+ ReLU) + MaxPool (while the image is 2x2 or larger), channels
/// doubling up to 16x, then N linear layers halving in width from `hidden` (not below the class count).
nn::Sequential simple_cnn(const ModelConfig& m, const InputShape& input) {
  nn::Sequential layers;
  Shape shape{input.channels, input.rows, input.cols};
  for (std::int64_t b = 0; b < m.conv_layers; ++b) {
    const std::int64_t out = m.channels << std::min<std::int64_t>(b, 4);
    layers->push_back(Conv3x3(shape.channels, out));
    if (m.batch_norm) layers->push_back(nn::BatchNorm2d(out));
    if (m.activation == Activation::kRelu) layers->push_back(nn::ReLU());
    if (shape.can_pool()) {
      layers->push_back(MaxPool2x2());
      shape.pool();
    }
    shape.channels = out;
  }
  layers->push_back(nn::Flatten());
  add_classifier(layers, shape.channels * shape.rows * shape.cols,
                 hidden_widths(m.linear_layers, [&](std::int64_t i) { return halved(m.hidden, i, input.classes); }),
                 m.activation, input.classes);
  return layers;
}

/// Linear layers only: widths from `hidden` down to the class count, linearly or halving.
nn::Sequential dense(const ModelConfig& m, const InputShape& input, bool halving) {
  nn::Sequential layers;
  layers->push_back(nn::Flatten());
  const auto n = m.linear_layers;
  const auto width = [&](std::int64_t i) -> std::int64_t {
    if (halving) return halved(m.hidden, i, input.classes);
    return m.hidden - (m.hidden - input.classes) * i / std::max<std::int64_t>(n - 1, 1);
  };
  add_classifier(layers, input.channels * input.rows * input.cols, hidden_widths(n, width), m.activation,
                 input.classes);
  return layers;
}

std::int64_t scaled(std::int64_t channels, double width) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(channels) * width));
}

/// VGG (Simonyan and Zisserman, 2015) as used on CIFAR: the conv stacks of configurations A, B, D
/// and E (0 = max-pool), global average pooling, one linear classifier.
nn::Sequential vgg(const ModelConfig& m, const InputShape& input) {
  static const std::map<std::int64_t, std::vector<int>> kStacks{
      {11, {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}},
      {13, {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}},
      {16, {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}},
      {19, {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0}}};
  nn::Sequential layers;
  Shape shape{input.channels, input.rows, input.cols};
  for (int c : kStacks.at(m.depth ? m.depth : 16)) {
    if (c == 0) {
      if (shape.can_pool()) {
        layers->push_back(MaxPool2x2());
        shape.pool();
      }
      continue;
    }
    const auto out = scaled(c, m.width);
    layers->push_back(Conv3x3(shape.channels, out));
    if (m.batch_norm) layers->push_back(nn::BatchNorm2d(out));
    layers->push_back(nn::ReLU());
    shape.channels = out;
  }
  layers->push_back(nn::AdaptiveAvgPool2d(1));
  layers->push_back(nn::Flatten());
  layers->push_back(nn::Linear(shape.channels, input.classes));
  return layers;
}

/// A basic (two 3x3) or bottleneck (1x1, 3x3, 1x1 x4) residual block.
Residual residual_block(std::int64_t in, std::int64_t planes, std::int64_t stride, bool bottleneck) {
  const std::int64_t out = bottleneck ? 4 * planes : planes;
  nn::Sequential body, shortcut;
  if (bottleneck) {
    body->push_back(conv(in, planes, 1));
    body->push_back(nn::BatchNorm2d(planes));
    body->push_back(nn::ReLU());
    body->push_back(conv(planes, planes, 3, stride));
    body->push_back(nn::BatchNorm2d(planes));
    body->push_back(nn::ReLU());
    body->push_back(conv(planes, out, 1));
  } else {
    body->push_back(conv(in, planes, 3, stride));
    body->push_back(nn::BatchNorm2d(planes));
    body->push_back(nn::ReLU());
    body->push_back(conv(planes, planes, 3));
  }
  body->push_back(nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    shortcut->push_back(conv(in, out, 1, stride));
    shortcut->push_back(nn::BatchNorm2d(out));
  }
  return Residual(body, shortcut);
}

/// ResNet (He et al., 2016) for small images: a 3x3 stem without max-pool; 20/32/56 are the
/// CIFAR networks (three stages of 16/32/64 channels), 18 and 50 the ImageNet stage plans.
nn::Sequential resnet(const ModelConfig& m, const InputShape& input) {
  const std::int64_t depth = m.depth ? m.depth : 20;
  std::vector<std::int64_t> blocks, planes;
  bool bottleneck = false;
  if (depth == 18) {
    blocks = {2, 2, 2, 2};
    planes = {64, 128, 256, 512};
  } else if (depth == 50) {
    blocks = {3, 4, 6, 3};
    planes = {64, 128, 256, 512};
    bottleneck = true;
  } else {
    const auto n = (depth - 2) / 6;
    blocks = {n, n, n};
    planes = {16, 32, 64};
  }
  nn::Sequential layers;
  std::int64_t in = scaled(planes[0], m.width);
  layers->push_back(conv(input.channels, in, 3));
  layers->push_back(nn::BatchNorm2d(in));
  layers->push_back(nn::ReLU());
  for (std::size_t stage = 0; stage < blocks.size(); ++stage) {
    const auto p = scaled(planes[stage], m.width);
    for (std::int64_t b = 0; b < blocks[stage]; ++b) {
      const std::int64_t stride = stage > 0 && b == 0 ? 2 : 1;
      layers->push_back(residual_block(in, p, stride, bottleneck));
      in = bottleneck ? 4 * p : p;
    }
  }
  layers->push_back(nn::AdaptiveAvgPool2d(1));
  layers->push_back(nn::Flatten());
  layers->push_back(nn::Linear(in, input.classes));
  return layers;
}

/// The line of a LibTorch error that says what went wrong: TorchScript's end in "RuntimeError: ...".
std::string brief(const std::string& what) {
  std::string last_error, line;
  std::istringstream lines(what);
  while (std::getline(lines, line)) {
    if (line.find("Error: ") != std::string::npos) last_error = line.substr(line.find_first_not_of(' '));
  }
  return last_error.empty() ? what.substr(0, what.find('\n')) : last_error;
}

std::string shape_text(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

/// Loads the user's network and checks that a batch of two samples of `input` gives two rows of
/// class scores.
std::unique_ptr<Model> load_torchscript(const std::string& path, const InputShape& input) {
  if (!std::filesystem::is_regular_file(path)) {
    throw ConfigError(fmt::format("{}: TorchScript file not found ([model] path; docs/models.md)", path));
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path);
  } catch (const std::exception& e) {
    throw ConfigError(
        fmt::format("{}: not a TorchScript file (save it with torch.jit.script or torch.jit.trace "
                    "and torch.jit.save): {}",
                    path, brief(e.what())));
  }
  auto model = std::make_unique<ScriptModel>(std::move(module));
  const std::vector<std::int64_t> in_shape{2, input.channels, input.rows, input.cols};
  torch::Tensor out;
  try {
    torch::NoGradGuard no_grad;
    model->set_training(false);
    out = model->forward(torch::zeros(in_shape));
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: the network does not take a batch of shape {} (the dataset's): {}", path,
                                  shape_text(in_shape), brief(e.what())));
  }
  if (out.dim() != 2 || out.size(0) != 2 || out.size(1) != input.classes) {
    throw ConfigError(
        fmt::format("{}: for a batch of shape {} the network returns {}; expected [2, {}] (one "
                    "score per class)",
                    path, shape_text(in_shape), shape_text(out.sizes()), input.classes));
  }
  model->set_training(true);
  return model;
}

/// Adds each conv and linear layer's multiply-accumulates for one sample.
class MacCounter final : public LayerVisitor {
 public:
  void before(const std::string&) override {}
  void after(const std::string&, const torch::nn::Module* layer, const torch::Tensor&, torch::Tensor& out) override {
    const double outputs = static_cast<double>(out.numel() / std::max<std::int64_t>(out.size(0), 1));
    if (const auto* c = dynamic_cast<const nn::Conv2dImpl*>(layer)) {
      const auto& o = c->options;
      macs_ +=
          outputs * static_cast<double>(o.in_channels() / o.groups() * (*o.kernel_size())[0] * (*o.kernel_size())[1]);
    } else if (const auto* l = dynamic_cast<const nn::LinearImpl*>(layer)) {
      macs_ += outputs * static_cast<double>(l->options.in_features());
    }
  }
  double macs() const { return macs_; }

 private:
  double macs_ = 0.0;
};

}  // namespace

std::unique_ptr<Model> make_model(const ModelConfig& config, const InputShape& input) {
  switch (config.family) {
    case ModelFamily::kSimpleCnn: return std::make_unique<LayerModel>(simple_cnn(config, input));
    case ModelFamily::kDenseLinear: return std::make_unique<LayerModel>(dense(config, input, false));
    case ModelFamily::kDensePoly: return std::make_unique<LayerModel>(dense(config, input, true));
    case ModelFamily::kVgg: return std::make_unique<LayerModel>(vgg(config, input));
    case ModelFamily::kResnet: return std::make_unique<LayerModel>(resnet(config, input));
    case ModelFamily::kTorchScript: return load_torchscript(config.path, input);
    case ModelFamily::kFunction: break;
  }
  throw ConfigError("the function family has no network");
}

ModelSize measure(Model& model, const InputShape& input, const torch::Device& device) {
  ModelSize size;
  for (const auto& p : model.parameters()) size.parameters += p.numel();
  if (!model.walks_layers()) {
    size.macs = std::nan("");
    return size;
  }
  torch::NoGradGuard no_grad;
  model.set_training(false);
  MacCounter counter;
  model.walk(torch::zeros({1, input.channels, input.rows, input.cols}, torch::TensorOptions().device(device)), counter);
  model.set_training(true);
  size.macs = counter.macs();
  return size;
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

}  // namespace cs::nodes
