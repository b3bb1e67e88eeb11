// The table of trainable settings: ranges, choices, aliases and when each applies.
#include "study/train_settings.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::study {

namespace {

using search::ParamValue;

/// The names of an enumeration's table, as a setting's choices list them.
template <typename E, std::size_t N>
constexpr std::array<std::string_view, N> names_of(const std::array<EnumName<E>, N>& names) {
  std::array<std::string_view, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = names[i].name;
  return out;
}

// The trainable families (the function family trains nothing and cannot be searched into).
constexpr std::array<std::string_view, 6> kTrainableFamilies{"simple_cnn", "dense_linear", "dense_poly",
                                                             "vgg",        "resnet",       "torchscript"};
constexpr auto kActivations = names_of(kActivationNames);
constexpr auto kOptimizers = names_of(kOptimizerNames);
constexpr auto kSchedules = names_of(kScheduleNames);
constexpr auto kPrecisions = names_of(kPrecisionNames);
// model.arch: a family and its depth in one name, so that a categorical can span families.
constexpr std::array<std::string_view, 12> kArchitectures{"simple_cnn", "dense_linear", "dense_poly", "vgg11",
                                                          "vgg13",      "vgg16",        "vgg19",      "resnet18",
                                                          "resnet20",   "resnet32",     "resnet50",   "resnet56"};

constexpr std::array<std::string_view, 2> kLrAliases{"lr", "training.lr"};
constexpr std::array<std::string_view, 2> kMomentumAliases{"momentum", "training.momentum"};
constexpr std::array<std::string_view, 1> kBatchAliases{"batch_size"};
constexpr std::array<std::string_view, 3> kConvAliases{"conv_blocks", "training.conv_blocks", "model.conv_blocks"};
constexpr std::array<std::string_view, 2> kChannelAliases{"channels", "training.channels"};
constexpr std::array<std::string_view, 1> kEpochAliases{"epochs"};

std::optional<double> as_number(const ParamValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::nullopt;
}

// Setters: the value was checked by assign() before any of these runs.
template <auto Group, auto Member>
void set_number(TrainSettings& s, const ParamValue& v) {
  auto& target = s.*Group.*Member;
  target = static_cast<std::remove_reference_t<decltype(target)>>(*as_number(v));
}

template <auto Group, auto Member>
void set_bool(TrainSettings& s, const ParamValue& v) {
  const auto* text = std::get_if<std::string>(&v);
  s.*Group.*Member = text ? *text == "true" : *as_number(v) != 0.0;
}

template <auto Group, auto Member, const auto& Names>
void set_choice(TrainSettings& s, const ParamValue& v) {
  s.*Group.*Member = *enum_from_name(Names, std::get<std::string>(v));
}

void set_arch(TrainSettings& s, const ParamValue& v) {
  const auto& name = std::get<std::string>(v);
  for (auto family : {ModelFamily::kVgg, ModelFamily::kResnet}) {
    const auto prefix = to_string(family);
    if (name.starts_with(prefix) && name.size() > prefix.size()) {
      s.model.family = family;
      s.model.depth = std::stoll(name.substr(prefix.size()));
      return;
    }
  }
  s.model.family = *enum_from_name(kModelFamilyNames, name);
}

template <ModelFamily... F>
bool family_is(const TrainSettings& s) {
  return ((s.model.family == F) || ...);
}

template <OptimizerKind... K>
bool optimizer_is(const TrainSettings& s) {
  return ((s.optimizer.name == K) || ...);
}

bool always(const TrainSettings&) { return true; }
bool on_cuda(const TrainSettings& s) { return s.training.device == Device::kCuda; }
bool step_schedule(const TrainSettings& s) { return s.optimizer.schedule == Schedule::kStep; }

using M = ModelConfig;
using O = OptimizerConfig;
using T = TrainingConfig;
using F = ModelFamily;
using K = OptimizerKind;
constexpr auto kModel = &TrainSettings::model;
constexpr auto kOptimizer = &TrainSettings::optimizer;
constexpr auto kTraining = &TrainSettings::training;

// clang-format off
const Setting kSettings[] = {
    {"model.family", SettingType::kChoice, 0, 0, "network family", kTrainableFamilies, {}, always, "every model",
     set_choice<kModel, &M::family, kModelFamilyNames>},
    {"model.arch", SettingType::kChoice, 0, 0, "family and depth in one name", kArchitectures, {}, always,
     "every model", set_arch},
    {"model.conv_layers", SettingType::kInt, 1, 16, "convolution blocks", {}, kConvAliases,
     family_is<F::kSimpleCnn>, "the simple_cnn family", set_number<kModel, &M::conv_layers>},
    {"model.linear_layers", SettingType::kInt, 1, 32, "linear layers, the classifier included", {}, {},
     family_is<F::kSimpleCnn, F::kDenseLinear, F::kDensePoly>, "the simple_cnn and dense families",
     set_number<kModel, &M::linear_layers>},
    {"model.channels", SettingType::kInt, 1, 1024, "channels of the first conv block", {}, kChannelAliases,
     family_is<F::kSimpleCnn>, "the simple_cnn family", set_number<kModel, &M::channels>},
    {"model.hidden", SettingType::kInt, 1, 65536, "width of the first hidden linear layer", {}, {},
     family_is<F::kSimpleCnn, F::kDenseLinear, F::kDensePoly>, "the simple_cnn and dense families",
     set_number<kModel, &M::hidden>},
    {"model.batch_norm", SettingType::kBool, 0, 1, "BatchNorm after each convolution", {}, {},
     family_is<F::kSimpleCnn, F::kVgg>, "the simple_cnn and vgg families", set_bool<kModel, &M::batch_norm>},
    {"model.activation", SettingType::kChoice, 0, 0, "activation after each hidden layer", kActivations, {},
     family_is<F::kSimpleCnn, F::kDenseLinear, F::kDensePoly>, "the simple_cnn and dense families",
     set_choice<kModel, &M::activation, kActivationNames>},
    {"model.depth", SettingType::kInt, 1, 200, "layers: vgg 11/13/16/19, resnet 18/20/32/50/56", {}, {},
     family_is<F::kVgg, F::kResnet>, "the vgg and resnet families", set_number<kModel, &M::depth>},
    {"model.width", SettingType::kFloat, 0.01, 4.0, "multiplier of every channel count", {}, {},
     family_is<F::kVgg, F::kResnet>, "the vgg and resnet families", set_number<kModel, &M::width>},
    {"optimizer.name", SettingType::kChoice, 0, 0, "optimizer", kOptimizers, {}, always, "every optimizer",
     set_choice<kOptimizer, &O::name, kOptimizerNames>},
    {"optimizer.lr", SettingType::kFloat, 1e-12, 10.0, "learning rate", {}, kLrAliases, always, "every optimizer",
     set_number<kOptimizer, &O::lr>},
    {"optimizer.momentum", SettingType::kFloat, 0.0, 0.999999, "momentum", {}, kMomentumAliases,
     optimizer_is<K::kSgd, K::kRmsprop>, "the sgd and rmsprop optimizers", set_number<kOptimizer, &O::momentum>},
    {"optimizer.nesterov", SettingType::kBool, 0, 1, "Nesterov momentum", {}, {}, optimizer_is<K::kSgd>,
     "the sgd optimizer", set_bool<kOptimizer, &O::nesterov>},
    {"optimizer.beta1", SettingType::kFloat, 0.0, 0.999999, "first-moment decay", {}, {},
     optimizer_is<K::kAdam, K::kAdamW>, "the adam and adamw optimizers", set_number<kOptimizer, &O::beta1>},
    {"optimizer.beta2", SettingType::kFloat, 0.0, 0.999999, "second-moment decay", {}, {},
     optimizer_is<K::kAdam, K::kAdamW>, "the adam and adamw optimizers", set_number<kOptimizer, &O::beta2>},
    {"optimizer.eps", SettingType::kFloat, 1e-12, 1.0, "denominator term", {}, {},
     optimizer_is<K::kAdam, K::kAdamW, K::kRmsprop>, "the adam, adamw and rmsprop optimizers",
     set_number<kOptimizer, &O::eps>},
    {"optimizer.weight_decay", SettingType::kFloat, 0.0, 1.0, "weight decay", {}, {}, always, "every optimizer",
     set_number<kOptimizer, &O::weight_decay>},
    {"optimizer.alpha", SettingType::kFloat, 0.0, 0.999999, "smoothing of the squared gradient", {}, {},
     optimizer_is<K::kRmsprop>, "the rmsprop optimizer", set_number<kOptimizer, &O::alpha>},
    {"optimizer.schedule", SettingType::kChoice, 0, 0, "learning-rate schedule", kSchedules, {}, always,
     "every optimizer", set_choice<kOptimizer, &O::schedule, kScheduleNames>},
    {"optimizer.step_size", SettingType::kInt, 1, 10000, "epochs between learning-rate decays", {}, {},
     step_schedule, "schedule = \"step\"", set_number<kOptimizer, &O::step_size>},
    {"optimizer.gamma", SettingType::kFloat, 1e-6, 1.0, "learning-rate decay factor", {}, {}, step_schedule,
     "schedule = \"step\"", set_number<kOptimizer, &O::gamma>},
    {"training.epochs", SettingType::kInt, 1, 10000, "epochs per trial", {}, kEpochAliases, always, "every model",
     set_number<kTraining, &T::epochs>},
    {"training.batch_size", SettingType::kInt, 1, 65536, "images per step", {}, kBatchAliases, always,
     "every model", set_number<kTraining, &T::batch_size>},
    {"training.precision", SettingType::kChoice, 0, 0, "arithmetic of the training step", kPrecisions, {}, always,
     "every model", set_choice<kTraining, &T::precision, kPrecisionNames>},
    {"training.cuda_graphs", SettingType::kBool, 0, 1, "CUDA graph replay of the training step", {}, {}, on_cuda,
     "device = \"cuda\"", set_bool<kTraining, &T::cuda_graphs>},
    {"training.channels_last", SettingType::kBool, 0, 1, "channels-last memory format", {}, {}, always,
     "every model", set_bool<kTraining, &T::channels_last>},
    {"training.split_batch", SettingType::kBool, 0, 1, "each CPU thread trains its part of the batch", {}, {},
     always, "every model", set_bool<kTraining, &T::split_batch>},
};
// clang-format on

std::string choice_list(std::span<const std::string_view> choices) {
  return fmt::format("{}", fmt::join(choices, ", "));
}

}  // namespace

std::span<const Setting> settings() { return kSettings; }

const Setting* find_setting(std::string_view name) {
  for (const auto& s : kSettings) {
    if (s.key == name || std::find(s.aliases.begin(), s.aliases.end(), name) != s.aliases.end()) return &s;
  }
  return nullptr;
}

bool is_governing(const Setting& setting) {
  return setting.key == "model.family" || setting.key == "model.arch" || setting.key == "optimizer.name" ||
         setting.key == "optimizer.schedule";
}

std::optional<std::string> assign(const Setting& setting, const ParamValue& value, TrainSettings& s) {
  const auto* text = std::get_if<std::string>(&value);
  const auto number = as_number(value);
  switch (setting.type) {
    case SettingType::kChoice:
      if (!text || std::find(setting.choices.begin(), setting.choices.end(), *text) == setting.choices.end()) {
        return fmt::format("expected one of: {}", choice_list(setting.choices));
      }
      break;
    case SettingType::kBool:
      if (text ? *text != "true" && *text != "false" : !(number && (*number == 0.0 || *number == 1.0))) {
        return "expected true or false (in a search space: the choices 0 and 1, or \"true\" and \"false\")";
      }
      break;
    case SettingType::kInt:
    case SettingType::kFloat: {
      const bool integral = number && std::floor(*number) == *number;
      if (!number || (setting.type == SettingType::kInt && !integral)) {
        return setting.type == SettingType::kInt ? "expected an integer" : "expected a number";
      }
      if (!(*number >= setting.low && *number <= setting.high)) {
        return fmt::format("expected a value in [{}, {}] ({}), got {}", setting.low, setting.high, setting.what,
                           *number);
      }
      break;
    }
  }
  setting.set(s, value);
  return std::nullopt;
}

std::vector<std::int64_t> valid_depths(ModelFamily family) {
  if (family == ModelFamily::kVgg) return {11, 13, 16, 19};
  if (family == ModelFamily::kResnet) return {18, 20, 32, 50, 56};
  return {};
}

std::optional<std::string> check_settings(const TrainSettings& s) {
  const auto depths = valid_depths(s.model.family);
  if (!depths.empty() && s.model.depth != 0 && std::find(depths.begin(), depths.end(), s.model.depth) == depths.end()) {
    return fmt::format("model.depth {} is not a {} depth; expected one of: {}", s.model.depth,
                       to_string(s.model.family), fmt::join(depths, ", "));
  }
  if (s.optimizer.name == OptimizerKind::kSgd && s.optimizer.nesterov && s.optimizer.momentum == 0.0) {
    return "optimizer.nesterov needs optimizer.momentum > 0";
  }
  if (s.training.precision == Precision::kFp16 && s.training.device != Device::kCuda) {
    return "training.precision = \"fp16\" needs device = \"cuda\" (its loss scaling runs on the GPU); on a CPU use "
           "\"bf16\"";
  }
  return std::nullopt;
}

std::string model_name(const ModelConfig& model) {
  if (model.family == ModelFamily::kVgg) return fmt::format("vgg{}", model.depth ? model.depth : 16);
  if (model.family == ModelFamily::kResnet) return fmt::format("resnet{}", model.depth ? model.depth : 20);
  return std::string(to_string(model.family));
}

TrainSettings apply_params(TrainSettings s, const std::vector<search::Param>& params, std::int64_t id,
                           std::vector<std::string>* inactive) {
  for (const auto& p : params) {
    const Setting* setting = find_setting(p.name);
    if (!setting) throw ConfigError(fmt::format("trial {}: '{}' is not a setting the trainer knows", id, p.name));
    if (auto why = assign(*setting, p.value, s)) {
      throw ConfigError(fmt::format("trial {}: parameter '{}': {}", id, p.name, *why));
    }
  }
  if (auto why = check_settings(s)) throw ConfigError(fmt::format("trial {}: {}", id, *why));
  if (inactive) {
    for (const auto& p : params) {
      if (!find_setting(p.name)->applies(s)) inactive->push_back(p.name);
    }
  }
  return s;
}

}  // namespace cs::study
