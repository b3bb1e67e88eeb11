// What a trial trains with ([model], [optimizer], [training]), and one description of every such
// setting that the study parser, the search-space check and the worker all read.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/enum_names.hpp"
#include "search/space.hpp"

namespace cs::study {

enum class ModelFamily { kSimpleCnn, kDenseLinear, kDensePoly, kVgg, kResnet, kTorchScript, kFunction };
inline constexpr std::array<EnumName<ModelFamily>, 7> kModelFamilyNames{{{ModelFamily::kSimpleCnn, "simple_cnn"},
                                                                         {ModelFamily::kDenseLinear, "dense_linear"},
                                                                         {ModelFamily::kDensePoly, "dense_poly"},
                                                                         {ModelFamily::kVgg, "vgg"},
                                                                         {ModelFamily::kResnet, "resnet"},
                                                                         {ModelFamily::kTorchScript, "torchscript"},
                                                                         {ModelFamily::kFunction, "function"}}};

enum class Activation { kRelu, kNone };
inline constexpr std::array<EnumName<Activation>, 2> kActivationNames{
    {{Activation::kRelu, "relu"}, {Activation::kNone, "none"}}};

enum class OptimizerKind { kSgd, kAdam, kAdamW, kRmsprop };
inline constexpr std::array<EnumName<OptimizerKind>, 4> kOptimizerNames{{{OptimizerKind::kSgd, "sgd"},
                                                                         {OptimizerKind::kAdam, "adam"},
                                                                         {OptimizerKind::kAdamW, "adamw"},
                                                                         {OptimizerKind::kRmsprop, "rmsprop"}}};

/// The learning rate over the epochs: constant, x gamma every step_size epochs, or a cosine to 0.
enum class Schedule { kNone, kStep, kCosine };
inline constexpr std::array<EnumName<Schedule>, 3> kScheduleNames{
    {{Schedule::kNone, "none"}, {Schedule::kStep, "step"}, {Schedule::kCosine, "cosine"}}};

/// cuda: the GPU local_rank mod count, as the nvml meter reads.
enum class Device { kCpu, kCuda };
inline constexpr std::array<EnumName<Device>, 2> kDeviceNames{{{Device::kCpu, "cpu"}, {Device::kCuda, "cuda"}}};

/// The training step's arithmetic: fp32, or autocast to bf16 (on a GPU or a CPU; no loss scaling
/// needed) or to fp16 (a GPU only, with dynamic loss scaling).
enum class Precision { kFp32, kBf16, kFp16 };
inline constexpr std::array<EnumName<Precision>, 3> kPrecisionNames{
    {{Precision::kFp32, "fp32"}, {Precision::kBf16, "bf16"}, {Precision::kFp16, "fp16"}}};

inline std::string_view to_string(ModelFamily v) { return enum_name(kModelFamilyNames, v); }
inline std::string_view to_string(Precision v) { return enum_name(kPrecisionNames, v); }
inline std::string_view to_string(Device v) { return enum_name(kDeviceNames, v); }

struct ModelConfig {
  ModelFamily family = ModelFamily::kSimpleCnn;
  std::int64_t conv_layers = 2;               ///< simple_cnn: conv blocks (conv 3x3 + norm + activation + pool)
  std::int64_t linear_layers = 2;             ///< simple_cnn, dense_*: linear layers, the last one the classifier
  std::int64_t channels = 16;                 ///< simple_cnn: channels of the first conv block, doubled per block
  std::int64_t hidden = 64;                   ///< simple_cnn, dense_*: width of the first hidden linear layer
  bool batch_norm = false;                    ///< simple_cnn, vgg: BatchNorm after each convolution
  Activation activation = Activation::kRelu;  ///< simple_cnn, dense_*
  std::int64_t depth = 0;                     ///< vgg: 11/13/16/19; resnet: 18/20/32/50/56; 0 = 16 or 20
  double width = 1.0;                         ///< vgg, resnet: multiplier of every channel count
  std::string path;                           ///< torchscript: the saved network (resolved against the study)
  std::string function;                       ///< function: branin | hartmann6 | ...
  double noise_sd = 0.0;                      ///< function: Gaussian noise added to each evaluation
  double energy_per_epoch_j = 100.0;          ///< function: synthetic energy, scaled by 1 + mean unit coordinate
  std::chrono::milliseconds epoch_time{0};    ///< function: wall time each epoch takes
};

struct OptimizerConfig {
  OptimizerKind name = OptimizerKind::kSgd;
  double lr = 0.01;
  double momentum = 0.9;  ///< sgd, rmsprop
  bool nesterov = false;  ///< sgd
  double beta1 = 0.9;     ///< adam, adamw
  double beta2 = 0.999;   ///< adam, adamw
  double eps = 1e-8;      ///< adam, adamw, rmsprop
  double weight_decay = 0.0;
  double alpha = 0.99;  ///< rmsprop: smoothing of the squared gradient
  Schedule schedule = Schedule::kNone;
  std::int64_t step_size = 1;  ///< step: epochs between decays
  double gamma = 0.1;          ///< step: the decay factor
};

struct TrainingConfig {
  int epochs = 1;
  std::int64_t batch_size = 64;
  int threads = 0;  ///< LibTorch intra-op threads per worker; 0 = the node's cores / workers on it
  Device device = Device::kCpu;
  Precision precision = Precision::kFp32;  ///< bf16: CUDA only
  bool cuda_graphs = true;                 ///< CUDA: replay the training step as a CUDA graph where it can
  bool channels_last = false;              ///< images and 4-D weights in channels-last memory format
  bool split_batch = true;                 ///< CPU: each thread trains its part of the batch (nodes/trainer.cpp)
};

/// Everything one trial trains with: the study's settings with the trial's parameters applied.
struct TrainSettings {
  ModelConfig model;
  OptimizerConfig optimizer;
  TrainingConfig training;
  std::uint64_t seed = 0;  ///< weight initialisation, shuffling and augmentation
};

enum class SettingType { kInt, kFloat, kBool, kChoice };

/// One setting of [model], [optimizer] or [training]: its dotted key, what values it takes,
/// and when it applies. Every such setting can be a search parameter.
struct Setting {
  std::string_view key;  ///< "optimizer.beta1"
  SettingType type;
  double low = 0.0, high = 0.0;                 ///< kInt, kFloat: the range a real study could use
  std::string_view what;                        ///< what it is, for messages: "Adam's first-moment decay"
  std::span<const std::string_view> choices{};  ///< kChoice: the names it takes
  std::span<const std::string_view> aliases{};  ///< older or shorter names: "lr", "training.lr"
  /// Whether the setting has any effect under `s` (a momentum under Adam has none).
  bool (*applies)(const TrainSettings& s) = nullptr;
  std::string_view applies_to;  ///< in words, for messages: "the sgd and rmsprop optimizers"
  void (*set)(TrainSettings& s, const search::ParamValue& v) = nullptr;
};

/// Every setting, in the order the README's table lists them.
std::span<const Setting> settings();

/// The setting named `name` (its key or an alias); null when there is none.
const Setting* find_setting(std::string_view name);

/// The settings whose values decide whether others apply (the family, the optimizer, the schedule).
bool is_governing(const Setting& setting);

/// Sets `value` into `s`; the reason it does not fit (type, range, choice) otherwise.
std::optional<std::string> assign(const Setting& setting, const search::ParamValue& value, TrainSettings& s);

/// What is wrong with the settings as a whole (a depth the family lacks, Nesterov without momentum).
std::optional<std::string> check_settings(const TrainSettings& s);

/// The depths a family is built in (empty for families without a depth).
std::vector<std::int64_t> valid_depths(ModelFamily family);

/// The network's name as the results file records it: "simple_cnn", "vgg16", "resnet50", ...
std::string model_name(const ModelConfig& model);

/// `defaults` with the trial's parameters applied. The names of parameters that do not apply to
/// the resulting model or optimizer go to `inactive` (recorded, not used). Throws ConfigError
/// naming trial `id` and the parameter for a value that does not fit.
TrainSettings apply_params(TrainSettings defaults, const std::vector<search::Param>& params, std::int64_t id,
                           std::vector<std::string>* inactive = nullptr);

}  // namespace cs::study
