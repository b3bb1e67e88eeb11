// The SimpleCNN model and its SGD training loop.
#include "nodes/trainer.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "errors/error.hpp"

namespace cs::nodes {

namespace {

// Fashion-MNIST pixel mean and standard deviation over the training set.
constexpr double kPixelMean = 0.2860;
constexpr double kPixelStd = 0.3530;

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

  torch::nn::Sequential features;
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(SimpleCnn);

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
  torch::Tensor train_x, train_y, test_x, test_y;
  std::int64_t side = 28;
};

Trainer::Trainer(const ImageSet& train, const ImageSet& test) : impl_(std::make_unique<Impl>()) {
  if (train.count == 0 || test.count == 0) throw ConfigError("the training and test sets must not be empty");
  impl_->train_x = to_images(train);
  impl_->train_y = to_labels(train);
  impl_->test_x = to_images(test);
  impl_->test_y = to_labels(test);
  impl_->side = train.rows;
}

Trainer::~Trainer() = default;
Trainer::Trainer(Trainer&&) noexcept = default;
Trainer& Trainer::operator=(Trainer&&) noexcept = default;

TrainOutcome Trainer::train(const TrainSettings& s, const std::function<EpochDecision(const EpochOutcome&)>& on_epoch) {
  torch::manual_seed(s.seed);
  SimpleCnn model(s.conv_blocks, s.channels, impl_->side);
  torch::optim::SGD optimiser(model->parameters(), torch::optim::SGDOptions(s.lr).momentum(s.momentum));
  const std::int64_t n = impl_->train_x.size(0);
  TrainOutcome outcome;
  for (int epoch = 1; epoch <= s.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    model->train();
    const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kInt64));
    double loss_sum = 0.0;
    std::int64_t batches = 0;
    for (std::int64_t start = 0; start < n; start += s.batch_size) {
      const auto idx = order.slice(0, start, std::min(start + s.batch_size, n));
      optimiser.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(model->forward(impl_->train_x.index_select(0, idx)),
                                                       impl_->train_y.index_select(0, idx));
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        outcome.diverged = true;
        return outcome;
      }
      loss.backward();
      optimiser.step();
      loss_sum += value;
      ++batches;
    }
    model->eval();
    double correct = 0.0;
    {
      torch::NoGradGuard no_grad;
      const std::int64_t m = impl_->test_x.size(0);
      for (std::int64_t start = 0; start < m; start += 1024) {
        const auto logits = model->forward(impl_->test_x.slice(0, start, std::min(start + 1024, m)));
        correct += logits.argmax(1).eq(impl_->test_y.slice(0, start, std::min(start + 1024, m))).sum().item<double>();
      }
      correct /= static_cast<double>(m);
    }
    EpochOutcome e{epoch, loss_sum / static_cast<double>(std::max<std::int64_t>(batches, 1)), correct,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    outcome.epochs.push_back(e);
    if (on_epoch && on_epoch(e) == EpochDecision::kStop) {
      outcome.stopped = epoch < s.epochs;
      break;
    }
  }
  return outcome;
}

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
