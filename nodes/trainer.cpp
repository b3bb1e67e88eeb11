// The training loop: optimisers, learning-rate schedules, augmentation, evaluation and the layer profiler.
#include "nodes/trainer.hpp"

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>
#ifdef CS_TORCH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <malloc.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "base/error.hpp"
#include "nodes/model_zoo.hpp"

namespace cs::nodes {

namespace {

/// Per-channel pixel mean and standard deviation of each dataset's training set (scaled to 0..1).
struct Normalisation {
  std::vector<double> mean, sd;
};

Normalisation published_normalisation(study::DatasetKind kind) {
  switch (kind) {
    case study::DatasetKind::kFashionMnist: return {{0.2860}, {0.3530}};
    case study::DatasetKind::kMnist: return {{0.1307}, {0.3081}};
    case study::DatasetKind::kCifar10: return {{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}};
    case study::DatasetKind::kCifar100: return {{0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}};
    case study::DatasetKind::kSynthetic: break;
  }
  return {};  // measured on the training images
}

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

/// Times each leaf layer's forward and watches its output for the backward pass.
class ProfilingVisitor final : public LayerVisitor {
 public:
  explicit ProfilingVisitor(LayerProfiler& profiler) : profiler_(profiler) {}
  void before(const std::string&) override { start_ = settled_now(profiler_.cuda()); }
  void after(const std::string& type, const torch::nn::Module*, const torch::Tensor&, torch::Tensor& out) override {
    profiler_.forward(type, settled_now(profiler_.cuda()) - start_);
    profiler_.watch(type, out);
  }

 private:
  LayerProfiler& profiler_;
  Clock::time_point start_{};
};

/// The images as floats in [0, 1], resized once to `side` x `side` (0: as stored), in chunks so that
/// the peak memory stays near the result's.
torch::Tensor to_images(const ImageSet& set, std::int64_t side) {
  const auto all = torch::from_blob(const_cast<std::uint8_t*>(set.pixels.data()),
                                    {set.count, set.channels, set.rows, set.cols}, torch::kUInt8);
  if (side == 0 || (side == set.rows && side == set.cols)) return all.to(torch::kFloat32).div_(255.0);
  std::vector<torch::Tensor> chunks;
  for (std::int64_t start = 0; start < set.count; start += 4096) {
    const auto chunk = all.slice(0, start, std::min(start + 4096, set.count)).to(torch::kFloat32).div_(255.0);
    chunks.push_back(torch::nn::functional::interpolate(chunk, torch::nn::functional::InterpolateFuncOptions()
                                                                   .size(std::vector<std::int64_t>{side, side})
                                                                   .mode(torch::kBilinear)
                                                                   .align_corners(false)));
  }
  return torch::cat(chunks);
}

torch::Tensor to_labels(const ImageSet& set) {
  return torch::from_blob(const_cast<std::uint8_t*>(set.labels.data()), {set.count}, torch::kUInt8).to(torch::kInt64);
}

/// Subtracts each channel's mean and divides by its standard deviation (measured on `train` when
/// the dataset has no published ones).
void normalise(std::vector<torch::Tensor*> sets, const study::DatasetConfig& prep) {
  auto n = published_normalisation(prep.name);
  const auto& train = *sets.front();
  if (n.mean.empty()) {
    for (std::int64_t c = 0; c < train.size(1); ++c) {
      n.mean.push_back(train.select(1, c).mean().item<double>());
      n.sd.push_back(std::max(train.select(1, c).std().item<double>(), 1e-6));
    }
  }
  const auto shape = std::vector<std::int64_t>{1, static_cast<std::int64_t>(n.mean.size()), 1, 1};
  const auto mean = torch::tensor(n.mean, torch::kFloat32).view(shape);
  const auto sd = torch::tensor(n.sd, torch::kFloat32).view(shape);
  for (auto* t : sets) t->sub_(mean).div_(sd);
}

}  // namespace

struct Trainer::Impl {
  torch::Device device{torch::kCPU};
  torch::Tensor train_x, train_y, val_x, val_y, test_x, test_y;
  InputShape input;
  study::DatasetConfig prep;

  /// A batch of images as the network takes them: grey copied to 3 channels where asked, and
  /// for training batches the configured augmentation.
  torch::Tensor batch(const torch::Tensor& images, bool augment) const;
};

torch::Tensor Trainer::Impl::batch(const torch::Tensor& images, bool augment) const {
  auto x = images;
  if (augment && prep.flip) {
    const auto mirror = torch::rand({x.size(0), 1, 1, 1}, x.options()) < 0.5;
    x = torch::where(mirror, x.flip({3}), x);
  }
  if (augment && prep.shift > 0) {
    const auto k = prep.shift;
    const auto padded = torch::constant_pad_nd(x, {k, k, k, k});
    const auto offsets = torch::randint(0, 2 * k + 1, {x.size(0), 2}, torch::kInt64).contiguous();
    const auto* o = offsets.data_ptr<std::int64_t>();
    std::vector<torch::Tensor> shifted;
    for (std::int64_t i = 0; i < x.size(0); ++i) {
      shifted.push_back(padded[i].narrow(1, o[2 * i], x.size(2)).narrow(2, o[2 * i + 1], x.size(3)));
    }
    x = torch::stack(shifted);
  }
  if (input.channels > x.size(1)) x = x.expand({-1, input.channels, -1, -1});
  return x;
}

namespace {
/// A training step frees all its activations at once. glibc then returns the free top of its
/// heap to the kernel (past a trim threshold of a few MiB), and the next step faults the same
/// memory back in, page by page. Measured (bench/trainer.sh, bf16 channels-last SimpleCNN, one
/// 12,000-image epoch): 250k page faults and 7.1k images/s before, 55k and 11.7-13.6k after.
/// Explicit thresholds keep up to 256 MiB of freed heap for reuse and serve blocks of up to
/// 32 MiB from the heap (setting one turns off glibc's dynamic mmap threshold, hence both).
void keep_freed_memory_for_reuse() {
  [[maybe_unused]] static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
}
}  // namespace

Trainer::Trainer(const ImageSet& train, const ImageSet& validation, const ImageSet& test,
                 const study::DatasetConfig& prep, const std::string& device)
    : impl_(std::make_unique<Impl>()) {
  keep_freed_memory_for_reuse();
  if (train.count == 0 || validation.count == 0 || test.count == 0) {
    throw ConfigError("the training, validation and test sets must not be empty");
  }
  try {
    impl_->device = torch::Device(device);
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("'{}' is not a LibTorch device (expected cpu or cuda:N)", device));
  }
  if (impl_->device.is_cuda() && impl_->device.index() >= cuda_device_count()) {
    throw ConfigError(fmt::format("device {}: LibTorch here has {} CUDA device(s) (a CPU build, or no GPU)", device,
                                  cuda_device_count()));
  }
  impl_->prep = prep;
  auto train_x = to_images(train, prep.resize);
  auto val_x = to_images(validation, prep.resize);
  auto test_x = to_images(test, prep.resize);
  if (prep.normalize) normalise({&train_x, &val_x, &test_x}, prep);
  impl_->train_x = train_x.to(impl_->device);
  impl_->val_x = val_x.to(impl_->device);
  impl_->test_x = test_x.to(impl_->device);
  impl_->train_y = to_labels(train).to(impl_->device);
  impl_->val_y = to_labels(validation).to(impl_->device);
  impl_->test_y = to_labels(test).to(impl_->device);
  impl_->input = {prep.channels ? prep.channels : train.channels, train_x.size(2), train_x.size(3), train.classes};
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

/// Turns autocast on (to `dtype`) or off for one device type, in LibTorch 1.13's API or 2's.
void set_autocast(c10::DeviceType device, bool on, at::ScalarType dtype) {
#if TORCH_VERSION_MAJOR >= 2
  if (on) at::autocast::set_autocast_dtype(device, dtype);
  at::autocast::set_autocast_enabled(device, on);
#else
  if (device == c10::DeviceType::CPU) {
    if (on) at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(on);
  } else {
    if (on) at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(on);
  }
#endif
}

/// Autocast of the forward pass while it lives: bf16 on the CPU (oneDNN's bf16 kernels, where
/// the CPU has AVX-512 BF16 or AMX) or on a CUDA device, fp16 on a CUDA device; nothing for fp32.
/// fp16 off CUDA is refused by the study parser, and by this on a LibTorch without CUDA.
class Autocast {
 public:
  Autocast(study::Precision precision, const torch::Device& device)
      : on_(precision != study::Precision::kFp32), device_(device.type()) {
    if (!on_) return;
    const auto dtype = precision == study::Precision::kBf16 ? at::kBFloat16 : at::kHalf;
    if (!device.is_cuda() && dtype == at::kHalf) throw ConfigError("precision = \"fp16\" needs device = \"cuda\"");
#ifndef CS_TORCH_CUDA
    if (device.is_cuda()) {
      throw ConfigError(
          fmt::format("precision = \"{}\" needs a LibTorch built with CUDA", study::to_string(precision)));
    }
#endif
    set_autocast(device_, true, dtype);
  }
  ~Autocast() {
    if (!on_) return;
    set_autocast(device_, false, at::kBFloat16);
    at::autocast::clear_cache();
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool on_;
  c10::DeviceType device_;
};

/// fp16's dynamic loss scaling, as torch.cuda.amp.GradScaler does it: the loss is multiplied by
/// the scale before backward; before the optimiser steps, the gradients are divided by it and
/// checked for inf/NaN on the device. A step whose gradients overflowed is skipped and the scale
/// halved; after 2,000 good steps in a row it doubles. The check costs one host read per step,
/// as in PyTorch. Nothing of this for fp32 and bf16 (bf16 has fp32's range).
class LossScaler {
 public:
  static constexpr double kInitialScale = 65536.0;
  static constexpr std::int64_t kGrowthInterval = 2000;

  LossScaler(study::Precision precision, const torch::Device& device) {
    if (precision != study::Precision::kFp16) return;
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    scale_ = torch::full({}, kInitialScale, f32);
    found_inf_ = torch::zeros({}, f32);
    growth_tracker_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt32).device(device));
  }

  /// The loss to call backward() on.
  torch::Tensor scaled(const torch::Tensor& loss) const { return scale_.defined() ? loss * scale_ : loss; }

  /// The optimiser's step, unless fp16's gradients overflowed.
  void step(torch::optim::Optimizer& optimiser) {
    if (!scale_.defined()) {
      optimiser.step();
      return;
    }
    std::vector<torch::Tensor> grads;
    for (auto& group : optimiser.param_groups()) {
      for (auto& p : group.params()) {
        if (p.grad().defined()) grads.push_back(p.mutable_grad());
      }
    }
    found_inf_.zero_();
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, scale_.reciprocal());
    if (found_inf_.item<float>() == 0.0f) {
      optimiser.step();
    } else {
      ++skipped_;
    }
    at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, 2.0, 0.5, kGrowthInterval);
  }

  std::int64_t skipped_steps() const { return skipped_; }

 private:
  torch::Tensor scale_, found_inf_, growth_tracker_;
  std::int64_t skipped_ = 0;
};

/// A batch as the network takes it, in the configured memory format.
torch::Tensor network_input(const Trainer::Impl& data, const torch::Tensor& images, bool augment,
                            const study::TrainSettings& s) {
  auto x = data.batch(images, augment);
  return s.training.channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

/// The mean cross-entropy of the training images at `idx` (forward only; autocast as configured).
torch::Tensor training_loss(Model& model, const Trainer::Impl& data, const torch::Tensor& idx,
                            const study::TrainSettings& s) {
  const auto images = network_input(data, data.train_x.index_select(0, idx), true, s);
  const Autocast autocast(s.training.precision, data.device);
  return torch::nn::functional::cross_entropy(model.forward(images), data.train_y.index_select(0, idx));
}

/// Images per evaluation batch (forward only, under no-grad).
constexpr std::int64_t kEvalBatch = 1024;

/// The number of correct predictions among `images` (a tensor on the device).
torch::Tensor correct_predictions(Model& model, const Trainer::Impl& data, const torch::Tensor& images,
                                  const torch::Tensor& labels, const study::TrainSettings& s) {
  return model.forward(network_input(data, images, false, s)).argmax(1).eq(labels).sum();
}

/// Tells the calling thread of a parallel region that what it calls has one thread. oneDNN plans
/// a convolution for the threads it is told it has, and a nested region of a two-thread plan runs
/// only its first half. LibTorch sets a thread's count at its first call on that thread, so that
/// comes first.
void run_alone() {
  at::internal::lazy_init_num_threads();
  omp_set_num_threads(1);
}

/// The training step's loss and gradient of the images at `idx`, the batch split into one part per
/// intra-op thread: each thread runs its part's forward and backward passes alone (LibTorch,
/// oneDNN and our kernels run serially inside a parallel region), with its part's mean loss
/// weighted by its share of the batch, and the parts' gradients are summed in a fixed order into
/// the parameters' gradients. The result is the whole batch's mean loss and its gradient, as one
/// pass computes them (to float rounding), without the threads meeting at a barrier after every
/// operator. Only for networks where samples do not see each other (no BatchNorm): see
/// Model::couples_samples(). The augmentation draws its random numbers for the whole batch first,
/// on this thread, so the images are those of one pass.
torch::Tensor split_step(Model& model, const Trainer::Impl& data, const torch::Tensor& idx,
                         const study::TrainSettings& s, const LossScaler& scaler, int parts) {
  const auto images = network_input(data, data.train_x.index_select(0, idx), true, s);
  const auto labels = data.train_y.index_select(0, idx);
  const std::int64_t n = idx.size(0);
  auto params = model.parameters();
  std::vector<torch::Tensor> losses(static_cast<std::size_t>(parts));
  std::vector<std::vector<torch::Tensor>> grads(static_cast<std::size_t>(parts));
  at::parallel_for(0, parts, 1, [&](std::int64_t begin, std::int64_t end) {
    run_alone();
    const torch::AutoGradMode grad_mode(true);
    for (std::int64_t part = begin; part < end; ++part) {
      const std::int64_t from = n * part / parts, to = n * (part + 1) / parts;
      auto loss = [&] {
        const Autocast autocast(s.training.precision, data.device);
        return torch::nn::functional::cross_entropy(model.forward(images.slice(0, from, to)),
                                                    labels.slice(0, from, to)) *
               (static_cast<double>(to - from) / static_cast<double>(n));
      }();
      grads[static_cast<std::size_t>(part)] =
          torch::autograd::grad({scaler.scaled(loss)}, params, {}, false, false, true);
      losses[static_cast<std::size_t>(part)] = loss.detach();
    }
  });
  for (std::size_t i = 0; i < params.size(); ++i) {
    // A part's gradient may be a view of another tensor, so the sum starts from a copy (the
    // optimiser's zero_grad() detaches the gradient in place, which a view refuses).
    torch::Tensor sum;
    for (const auto& part : grads) {
      if (part[i].defined()) sum = sum.defined() ? sum.add_(part[i]) : part[i].clone();
    }
    params[i].mutable_grad() = sum;
  }
  auto loss = losses[0];
  for (std::size_t i = 1; i < losses.size(); ++i) loss = loss + losses[i];
  return loss;
}

/// The parts split_step() divides a batch into: one per intra-op thread where it can run.
int split_parts(Model& model, const Trainer::Impl& data, const study::TrainSettings& s) {
  const bool can =
      data.device.is_cpu() && s.training.split_batch && !model.couples_samples() && batch_split_available();
  return can ? at::get_num_threads() : 1;
}

/// How a pass over the training images ended.
struct Pass {
  double mean_loss = 0.0;
  bool diverged = false;  ///< the loss became NaN or infinite
  bool halted = false;    ///< should_stop said so
};

/// Why the training step of these settings cannot run as a CUDA graph; empty when it can.
std::string graph_obstacle(const Trainer::Impl& data, const study::TrainSettings& s, const TrainCallbacks& callbacks) {
  if (!data.device.is_cuda()) return "not on a CUDA device";
  if (!s.training.cuda_graphs) return "cuda_graphs = false";
  if (callbacks.profile_every > 0) return "the layer profiler times layers eagerly";
  if (data.prep.shift > 0) return "the shift augmentation draws its offsets on the host";
  if (data.train_x.size(0) < s.training.batch_size) return "no full batch";
#ifdef CS_TORCH_CUDA
  return {};
#else
  return "this LibTorch was built without CUDA";
#endif
}

#ifdef CS_TORCH_CUDA
/// The training step (forward, loss, backward) of a full batch, captured once per trial as a
/// CUDA graph and replayed for every full batch: the batch's indices go into a static buffer,
/// the gradients live in the graph's memory pool, and the optimiser steps eagerly after each
/// replay, so every optimiser and learning-rate schedule stays exact. The first steps warm up
/// eagerly on the side stream the graph is captured on. The losses add up on the device and
/// are read once per epoch. The last partial batch of an epoch (its shape differs) runs eagerly,
/// so every image is seen as in the eager loop. When capture fails, the reason is kept and the
/// trial goes on eagerly.
class GraphStep {
 public:
  static constexpr int kWarmupSteps = 3;

  GraphStep(const Trainer::Impl& data, std::int64_t batch)
      : side_(c10::cuda::getStreamFromPool(false, data.device.index())),
        idx_(torch::zeros({batch}, torch::TensorOptions().dtype(torch::kInt64).device(data.device))) {}

  const std::string& failure() const { return failure_; }
  /// Why evaluation's capture failed (it then runs eagerly); empty otherwise.
  const std::string& eval_failure() const { return eval_failure_; }

  /// The correct predictions of one full evaluation batch (kEvalBatch images), added to
  /// `correct`: the forward pass is captured at the second call (the first warms it up eagerly)
  /// and replayed from then on; the weights and BatchNorm statistics it reads are updated in
  /// place, so one capture serves every evaluation of the trial. Call under no-grad, in eval mode.
  void evaluate_batch(Model& model, const Trainer::Impl& data, const study::TrainSettings& s,
                      const torch::Tensor& images, const torch::Tensor& labels, torch::Tensor& correct) {
    if (!eval_failure_.empty() || eval_calls_++ == 0) {
      correct += correct_predictions(model, data, images, labels, s);
      return;
    }
    if (!eval_graph_) {
      eval_x_ = images.clone();
      eval_y_ = labels.clone();
      torch::cuda::synchronize();
      const c10::cuda::CUDAStreamGuard on_side(side_);
      at::autocast::set_autocast_cache_enabled(false);
      auto graph = std::make_unique<at::cuda::CUDAGraph>();
      try {
        graph->capture_begin();
        try {
          eval_correct_ = correct_predictions(model, data, eval_x_, eval_y_, s);
        } catch (...) {
          end_capture_quietly(*graph);
          throw;
        }
        graph->capture_end();
        eval_graph_ = std::move(graph);
      } catch (const std::exception& e) {
        eval_failure_ = "capture failed: " + first_line(e.what());
      }
      at::autocast::set_autocast_cache_enabled(true);
      torch::cuda::synchronize();
      if (!eval_graph_) {
        correct += correct_predictions(model, data, images, labels, s);
        return;
      }
    }
    eval_x_.copy_(images);
    eval_y_.copy_(labels);
    eval_graph_->replay();
    correct += eval_correct_;
  }

  /// One pass over the images in `order`; true (the pass is done). After a failed capture the
  /// rest of the trial runs eagerly and failure() says why.
  bool epoch(Model& model, torch::optim::Optimizer& optimiser, LossScaler& scaler, const Trainer::Impl& data,
             const study::TrainSettings& s, const torch::Tensor& order, const TrainCallbacks& callbacks,
             std::int64_t& step, Pass& pass) {
    const std::int64_t batch = idx_.size(0);
    const std::int64_t full = data.train_x.size(0) / batch;
    torch::cuda::synchronize();  // `order` and the weights were made on the default stream
    const c10::cuda::CUDAStreamGuard on_side(side_);
    auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(data.device));
    std::int64_t b = 0;
    for (; b < full; ++b, ++step) {
      if (callbacks.should_stop && callbacks.should_stop()) {
        pass.halted = true;
        break;
      }
      const auto idx = order.slice(0, b * batch, (b + 1) * batch);
      if (warmed_ < kWarmupSteps || !failure_.empty()) {
        loss_sum += eager_step(model, optimiser, scaler, data, s, idx);
        ++warmed_;
        continue;
      }
      if (!graph_ && !capture(model, scaler, data, s)) {
        --b, --step;  // this batch again, eagerly
        continue;
      }
      idx_.copy_(idx);
      graph_->replay();
      scaler.step(optimiser);
      loss_sum += loss_.detach();
    }
    const std::int64_t n = data.train_x.size(0);
    if (!pass.halted && full * batch < n) {
      loss_sum += eager_step(model, optimiser, scaler, data, s, order.slice(0, full * batch, n));
      ++b, ++step;
    }
    const double sum = loss_sum.item<double>();  // waits for the side stream
    torch::cuda::synchronize();
    pass.mean_loss = sum / static_cast<double>(std::max<std::int64_t>(b, 1));
    pass.diverged = !std::isfinite(pass.mean_loss);
    return true;
  }

 private:
  /// A step outside the graph. Once the graph exists, the gradients must stay in its pool: they
  /// are zeroed in place (backward then adds into them in place), never released as zero_grad()
  /// may do.
  torch::Tensor eager_step(Model& model, torch::optim::Optimizer& optimiser, LossScaler& scaler,
                           const Trainer::Impl& data, const study::TrainSettings& s, const torch::Tensor& idx) {
    if (graph_) {
      for (auto& p : model.parameters()) {
        if (p.grad().defined()) p.mutable_grad().zero_();
      }
    } else {
      optimiser.zero_grad();
    }
    auto loss = training_loss(model, data, idx, s);
    scaler.scaled(loss).backward();
    scaler.step(optimiser);
    return loss.detach();
  }

  bool capture(Model& model, const LossScaler& scaler, const Trainer::Impl& data, const study::TrainSettings& s) {
    // The backward pass must write fresh gradients into the graph's pool, not add to eager ones.
    for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
    at::autocast::set_autocast_cache_enabled(false);
    auto graph = std::make_unique<at::cuda::CUDAGraph>();
    try {
      graph->capture_begin();
      try {
        loss_ = training_loss(model, data, idx_, s);
        scaler.scaled(loss_).backward();  // the scale is read from its device tensor at each replay
      } catch (...) {
        end_capture_quietly(*graph);
        throw;
      }
      graph->capture_end();
    } catch (const std::exception& e) {
      at::autocast::set_autocast_cache_enabled(true);
      failure_ = "capture failed: " + first_line(e.what());
      for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
      return false;
    }
    at::autocast::set_autocast_cache_enabled(true);
    graph_ = std::move(graph);
    return true;
  }

  static void end_capture_quietly(at::cuda::CUDAGraph& graph) {
    try {
      graph.capture_end();
    } catch (...) {
    }
  }
  static std::string first_line(const std::string& what) { return what.substr(0, what.find('\n')); }

  c10::cuda::CUDAStream side_;
  torch::Tensor idx_, loss_;
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  int warmed_ = 0;
  std::string failure_;
  torch::Tensor eval_x_, eval_y_, eval_correct_;
  std::unique_ptr<at::cuda::CUDAGraph> eval_graph_;
  int eval_calls_ = 0;
  std::string eval_failure_;  ///< why evaluation runs eagerly after a failed capture
};
#else
/// Without CUDA in LibTorch there is nothing to capture (graph_obstacle() says so).
class GraphStep {
 public:
  GraphStep(const Trainer::Impl&, std::int64_t) {}
  const std::string& failure() const { return failure_; }
  const std::string& eval_failure() const { return failure_; }
  void evaluate_batch(Model& model, const Trainer::Impl& data, const study::TrainSettings& s,
                      const torch::Tensor& images, const torch::Tensor& labels, torch::Tensor& correct) {
    correct += correct_predictions(model, data, images, labels, s);
  }
  bool epoch(Model&, torch::optim::Optimizer&, LossScaler&, const Trainer::Impl&, const study::TrainSettings&,
             const torch::Tensor&, const TrainCallbacks&, std::int64_t&, Pass&) {
    return false;
  }

 private:
  std::string failure_;
};
#endif

/// One pass over the training images in a seeded random order. `step` counts steps across
/// epochs (profiling cadence).
Pass train_epoch(Model& model, torch::optim::Optimizer& optimiser, LossScaler& scaler, const Trainer::Impl& data,
                 const study::TrainSettings& s, const TrainCallbacks& callbacks, std::int64_t& step, LayerTally& tally,
                 GraphStep* graph) {
  model.set_training(true);
  const auto& x = data.train_x;
  const auto& y = data.train_y;
  const auto& device = data.device;
  const std::int64_t batch_size = s.training.batch_size;
  const std::int64_t n = x.size(0);
  const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kInt64)).to(device);
  if (graph) {
    Pass pass;
    if (graph->epoch(model, optimiser, scaler, data, s, order, callbacks, step, pass)) return pass;
  }
  // Each step's loss is read on the host (a NaN stops the trial before its step is applied).
  // Adding the losses on the device instead, read every 50 steps, was measured on the H200 and
  // here (docs/gpu.md): no gain in training on the GPU, 16% slower on this CPU.
  double loss_sum = 0.0;
  std::int64_t batches = 0;
  const int parts = split_parts(model, data, s);
  for (std::int64_t start = 0; start < n; start += batch_size, ++step) {
    if (callbacks.should_stop && callbacks.should_stop()) return {0.0, false, true};
    const auto idx = order.slice(0, start, std::min(start + batch_size, n));
    const bool profile = callbacks.profile_every > 0 && step % callbacks.profile_every == 0;
    LayerProfiler profiler(device.is_cuda());
    const double energy_before_j = profile ? callbacks.energy_now_j() : 0.0;
    const auto step_start = settled_now(profile && profiler.cuda());
    optimiser.zero_grad();
    double value = 0.0;
    if (!profile && parts > 1 && idx.size(0) >= 2 * parts) {
      value = split_step(model, data, idx, s, scaler, parts).item<double>();  // the gradients are set
      if (!std::isfinite(value)) return {0.0, true, false};
    } else {
      torch::Tensor loss;
      if (profile) {
        ProfilingVisitor visitor(profiler);
        const auto images = network_input(data, x.index_select(0, idx), true, s);
        const Autocast autocast(s.training.precision, data.device);
        loss = torch::nn::functional::cross_entropy(model.walk(images, visitor), y.index_select(0, idx));
      } else {
        loss = training_loss(model, data, idx, s);
      }
      value = loss.item<double>();
      if (!std::isfinite(value)) return {0.0, true, false};
      scaler.scaled(loss).backward();
      if (profile) profiler.backward_done(settled_now(profiler.cuda()));
    }
    scaler.step(optimiser);
    if (profile) {
      tally.add(profiler, settled_now(profiler.cuda()) - step_start, callbacks.energy_now_j() - energy_before_j);
    }
    loss_sum += value;
    ++batches;
  }
  return {loss_sum / static_cast<double>(std::max<std::int64_t>(batches, 1)), false, false};
}

/// Accuracy on a set of images, in batches of kEvalBatch under no-grad, the full ones replayed
/// from a CUDA graph when there is one; nothing when should_stop ended it.
std::optional<double> evaluate(Model& model, const Trainer::Impl& data, const torch::Tensor& x, const torch::Tensor& y,
                               const study::TrainSettings& s, const std::function<bool()>& should_stop,
                               GraphStep* graph) {
  model.set_training(false);
  torch::NoGradGuard no_grad;
  const Autocast autocast(s.training.precision, data.device);
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(data.device));
  const std::int64_t m = x.size(0);
  for (std::int64_t start = 0; start < m; start += kEvalBatch) {
    if (should_stop && should_stop()) return std::nullopt;
    const std::int64_t end = std::min(start + kEvalBatch, m);
    const auto images = x.slice(0, start, end);
    const auto labels = y.slice(0, start, end);
    if (graph && end - start == kEvalBatch) {
      graph->evaluate_batch(model, data, s, images, labels, correct);
    } else {
      correct += correct_predictions(model, data, images, labels, s);
    }
  }
  return static_cast<double>(correct.item<std::int64_t>()) / static_cast<double>(m);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const study::OptimizerConfig& o) {
  namespace optim = torch::optim;
  switch (o.name) {
    case study::OptimizerKind::kSgd:
      return std::make_unique<optim::SGD>(
          params, optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov).weight_decay(o.weight_decay));
    case study::OptimizerKind::kAdam:
      return std::make_unique<optim::Adam>(
          params, optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(o.weight_decay));
    case study::OptimizerKind::kAdamW:
      return std::make_unique<optim::AdamW>(
          params, optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(o.weight_decay));
    case study::OptimizerKind::kRmsprop:
      return std::make_unique<optim::RMSprop>(
          params,
          optim::RMSpropOptions(o.lr).alpha(o.alpha).eps(o.eps).momentum(o.momentum).weight_decay(o.weight_decay));
  }
  throw ConfigError("unknown optimizer");
}

/// The learning rate of epoch `epoch` (from 0) of `epochs`.
double scheduled_lr(const study::OptimizerConfig& o, int epoch, int epochs) {
  switch (o.schedule) {
    case study::Schedule::kNone: break;
    case study::Schedule::kStep: return o.lr * std::pow(o.gamma, static_cast<double>(epoch / o.step_size));
    case study::Schedule::kCosine: return 0.5 * o.lr * (1.0 + std::cos(M_PI * epoch / std::max(epochs, 1)));
  }
  return o.lr;
}

}  // namespace

TrainOutcome Trainer::train(const study::TrainSettings& s, const TrainCallbacks& callbacks) {
  torch::manual_seed(s.seed);
  auto model = make_model(s.model, impl_->input);
  model->to(impl_->device);
  TrainOutcome outcome;
  outcome.model = study::model_name(s.model);
  const auto size = measure(*model, impl_->input, impl_->device);
  outcome.parameters = size.parameters;
  outcome.macs = size.macs;
  if (s.training.channels_last) {
    // Strides exactly channels-last, as PyTorch's module.to(memory_format=...) makes them:
    // contiguous() keeps a one-input-channel weight's NCHW strides (both layouts fit it), and
    // oneDNN then runs that convolution blocked, with two reorders per step (1.6x slower, bf16).
    for (auto& p : model->parameters()) {
      if (p.dim() == 4) p.set_data(torch::empty_like(p, torch::MemoryFormat::ChannelsLast).copy_(p));
    }
  }
  const auto optimiser = make_optimizer(model->parameters(), s.optimizer);
  LossScaler scaler(s.training.precision, impl_->device);
  std::optional<GraphStep> graph;
  if (const auto obstacle = graph_obstacle(*impl_, s, callbacks); obstacle.empty()) {
    graph.emplace(*impl_, s.training.batch_size);
  } else if (impl_->device.is_cuda()) {
    outcome.cuda_graph = "eager: " + obstacle;
  }
  LayerTally tally;
  std::int64_t step = 0;
  const int epochs = s.training.epochs;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = Clock::now();
    for (auto& group : optimiser->param_groups()) group.options().set_lr(scheduled_lr(s.optimizer, epoch - 1, epochs));
    const auto pass =
        train_epoch(*model, *optimiser, scaler, *impl_, s, callbacks, step, tally, graph ? &*graph : nullptr);
    if (graph && !graph->failure().empty()) {
      outcome.cuda_graph = "eager: " + graph->failure();
      graph.reset();
    }
    outcome.diverged = pass.diverged;
    outcome.halted = pass.halted;
    if (pass.diverged || pass.halted) break;
    if (callbacks.on_eval_start) callbacks.on_eval_start();
    const auto accuracy =
        evaluate(*model, *impl_, impl_->val_x, impl_->val_y, s, callbacks.should_stop, graph ? &*graph : nullptr);
    if (!accuracy) {
      outcome.halted = true;
      break;
    }
    outcome.epochs.push_back({epoch, pass.mean_loss, *accuracy, seconds(Clock::now() - t0)});
    if (callbacks.on_epoch && callbacks.on_epoch(outcome.epochs.back()) == EpochDecision::kStop) {
      outcome.stopped = epoch < epochs;
      break;
    }
  }
  // The test set is measured once, after the last epoch, and never reaches the sampler.
  if (static_cast<int>(outcome.epochs.size()) == epochs && !outcome.stopped) {
    if (const auto test = evaluate(*model, *impl_, impl_->test_x, impl_->test_y, s, callbacks.should_stop,
                                   graph ? &*graph : nullptr)) {
      outcome.test_accuracy = *test;
    } else {
      outcome.halted = true;
    }
  }
  if (graph) {
    outcome.cuda_graph =
        graph->eval_failure().empty() ? "captured" : "captured; evaluation eager: " + graph->eval_failure();
  }
  outcome.layers = tally.shares();
  outcome.profiled_steps = tally.steps;
  outcome.skipped_steps = scaler.skipped_steps();
  outcome.split_parts = split_parts(*model, *impl_, s);
  return outcome;
}

bool batch_split_available() {
  if (at::get_num_threads() < 2) return false;
  std::atomic<bool> serial{true};
  at::parallel_for(0, 2, 1, [&](std::int64_t, std::int64_t) {
    run_alone();
    if (!at::in_parallel_region() || at::get_num_threads() != 1) serial = false;
  });
  return serial;
}

void check_network(const study::ModelConfig& model, const study::DatasetConfig& dataset) {
  if (model.family != study::ModelFamily::kFunction) make_model(model, input_shape(dataset));
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
