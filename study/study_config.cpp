// TOML study parsing: a checked reader per table that tracks which keys were consumed.
#include "study/study_config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "base/duration.hpp"
#include "base/enum_names.hpp"
#include "base/error.hpp"
#include "base/utc_time.hpp"
#include "carbon/forecast.hpp"
#include "carbon/region_table.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "energy/meter_factory.hpp"
#include "search/sampler.hpp"
#include "search/test_functions.hpp"

namespace cs::study {

namespace {

/// Wraps one TOML table: typed getters with file:line:key errors, and a check for unknown keys.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string file, std::string where)
      : table_(table), file_(std::move(file)), where_(std::move(where)) {}

  [[noreturn]] void fail(const toml::node* node, std::string_view key, const std::string& what) const {
    const auto line = node ? node->source().begin.line : table_.source().begin.line;
    if (line == 0) {  // a value --set put there, not the file
      throw ConfigError(fmt::format("{}: key '{}' in {} (set on the command line): {}", file_, key, where_, what));
    }
    throw ConfigError(fmt::format("{}:{}: key '{}' in {}: {}", file_, line, key, where_, what));
  }

  const toml::node* find(std::string_view key) {
    used_.insert(std::string(key));
    return table_.get(key);
  }

  template <typename T>
  std::optional<T> optional(std::string_view key, const char* expected) {
    const toml::node* node = find(key);
    if (!node) return std::nullopt;
    if constexpr (std::is_same_v<T, double>) {
      if (auto v = node->value<double>()) return *v;  // toml++ also converts integers
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      if (node->is_integer()) return *node->value<std::int64_t>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (node->is_boolean()) return *node->value<bool>();
    } else {
      if (node->is_string()) return *node->value<std::string>();
    }
    fail(node, key, fmt::format("expected {}, got {}", expected, type_name(*node)));
  }

  template <typename T>
  T required(std::string_view key, const char* expected) {
    auto v = optional<T>(key, expected);
    if (!v) fail(nullptr, key, fmt::format("missing; expected {}", expected));
    return *v;
  }

  /// An optional number that must satisfy `ok`; `fallback` when absent.
  template <typename Ok>
  double number(std::string_view key, double fallback, const char* expected, Ok ok) {
    const double v = optional<double>(key, expected).value_or(fallback);
    if (!ok(v) || !std::isfinite(v)) fail(find(key), key, fmt::format("expected {}, got {}", expected, v));
    return v;
  }

  /// One of the names of `names` (an enumeration's table); `fallback` when absent.
  template <typename E, std::size_t N>
  E choice(std::string_view key, const std::array<EnumName<E>, N>& names, E fallback) {
    const auto choices = enum_choices(names);
    const auto text = optional<std::string>(key, choices.c_str());
    if (!text) return fallback;
    const auto value = enum_from_name(names, *text);
    if (!value) fail(find(key), key, fmt::format("unknown {} '{}'; expected {}", key, *text, choices));
    return *value;
  }

  /// A duration with units ("100ms", "2s", "6h"); `example` shows one in the error message.
  std::optional<std::chrono::milliseconds> duration(std::string_view key, const char* example,
                                                    bool allow_zero = false) {
    const auto text = optional<std::string>(key, fmt::format("a duration such as \"{}\"", example).c_str());
    if (!text) return std::nullopt;
    const auto ms = parse_duration(*text, allow_zero);
    if (!ms) {
      fail(find(key), key,
           fmt::format("'{}' is not a positive duration; write a number and a unit (ms, s, min, h, d), e.g. \"{}\"",
                       *text, example));
    }
    return ms;
  }

  const toml::table* subtable(std::string_view key) {
    const toml::node* node = find(key);
    if (node && !node->is_table()) fail(node, key, fmt::format("expected a table, got {}", type_name(*node)));
    return node ? node->as_table() : nullptr;
  }

  /// Throws for the first key that was never asked for.
  void reject_unknown_keys() const {
    for (const auto& [k, node] : table_) {
      if (!used_.contains(std::string(k.str()))) {
        fail(&node, k.str(), fmt::format("unknown key; expected one of: {}", fmt::join(used_, ", ")));
      }
    }
  }

  const std::string& file() const { return file_; }
  const toml::table& table() const { return table_; }
  bool used(std::string_view key) const { return used_.contains(std::string(key)); }

  static std::string type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      default: return "a date or time";
    }
  }

 private:
  const toml::table& table_;
  std::string file_;
  std::string where_;
  std::set<std::string> used_;
};

search::ParamValue to_param_value(const toml::node& node) {
  if (node.is_integer()) return *node.value<std::int64_t>();
  if (node.is_floating_point()) return *node.value<double>();
  return *node.value<std::string>();
}

search::ParamSpec read_param(const std::string& name, const toml::table& table, const std::string& file) {
  TableReader r(table, file, fmt::format("[search.space.{}]", name));
  search::ParamSpec spec;
  spec.name = name;
  const std::string type = r.required<std::string>("type", "a string: float, int or categorical");
  if (type == "categorical") {
    spec.kind = search::ParamKind::kCategorical;
    const toml::node* choices = r.find("choices");
    if (!choices || !choices->is_array()) r.fail(choices, "choices", "expected an array of values");
    for (const auto& c : *choices->as_array()) {
      if (!c.is_integer() && !c.is_floating_point() && !c.is_string()) {
        r.fail(&c, "choices", "each choice must be a number or a string");
      }
      spec.choices.push_back(to_param_value(c));
    }
  } else if (type == "float" || type == "int") {
    spec.kind = type == "float" ? search::ParamKind::kFloat : search::ParamKind::kInt;
    spec.low = r.required<double>("low", "a number");
    spec.high = r.required<double>("high", "a number");
    spec.log = r.optional<bool>("log", "true or false").value_or(false);
  } else {
    r.fail(table.get("type"), "type", fmt::format("unknown type '{}'; expected float, int or categorical", type));
  }
  r.reject_unknown_keys();
  try {
    search::validate(spec);
  } catch (const ConfigError& e) {
    r.fail(nullptr, name, e.what());
  }
  return spec;
}

/// An optional integer in [lo, hi], a range a real cluster could use (so that a typo such as
/// 2e9 is refused, not allocated); `fallback` when absent. `what` says what it counts.
std::int64_t bounded_int(TableReader& r, std::string_view key, std::int64_t fallback, std::int64_t lo, std::int64_t hi,
                         std::string_view what) {
  const auto v = r.optional<std::int64_t>(key, "an integer");
  if (v && (*v < lo || *v > hi)) {
    r.fail(r.find(key), key, fmt::format("expected an integer in [{}, {}] ({}), got {}", lo, hi, what, *v));
  }
  return v.value_or(fallback);
}

/// A TOML value as a setting or parameter takes it (a boolean as 0 or 1).
std::optional<search::ParamValue> setting_value(const toml::node& node) {
  if (node.is_boolean()) return std::int64_t{*node.value<bool>() ? 1 : 0};
  if (node.is_integer() || node.is_floating_point() || node.is_string()) return to_param_value(node);
  return std::nullopt;
}

/// A search parameter that sets a trainer setting: every value it can take (its bounds, or each
/// choice) must fit the setting, alone and with the study's other settings (a vgg depth).
void check_parameter_fits(TableReader& r, const toml::node& node, const search::ParamSpec& p,
                          const TrainSettings& defaults) {
  const Setting* setting = find_setting(p.name);
  std::vector<search::ParamValue> values = p.choices;
  if (p.kind != search::ParamKind::kCategorical) {
    if (setting->type == SettingType::kChoice) {
      r.fail(&node, p.name, fmt::format("{} takes names, not numbers: use type = \"categorical\"", setting->key));
    }
    if (setting->type == SettingType::kBool) {
      r.fail(&node, p.name,
             fmt::format("{} is true or false: use type = \"categorical\" with choices = [0, 1]", setting->key));
    }
    if (setting->type == SettingType::kInt && p.kind != search::ParamKind::kInt) {
      r.fail(&node, p.name, fmt::format("{} is an integer: use type = \"int\" or \"categorical\"", setting->key));
    }
    const bool is_int = p.kind == search::ParamKind::kInt;
    for (double v : {p.low, p.high}) {
      values.push_back(is_int ? search::ParamValue{static_cast<std::int64_t>(v)} : search::ParamValue{v});
    }
  }
  for (const auto& v : values) {
    auto scratch = defaults;
    auto why = assign(*setting, v, scratch);
    if (!why && !is_governing(*setting)) why = check_settings(scratch);
    if (why) r.fail(&node, p.name, fmt::format("{}: {}", setting->key, *why));
  }
}

void read_study_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("study");
  if (!t) root.fail(nullptr, "study", "missing table [study]");
  TableReader r(*t, root.file(), "[study]");
  config.name = r.required<std::string>("name", "a string");
  const auto seed = r.optional<std::int64_t>("seed", "an integer").value_or(0);
  if (seed < 0) r.fail(r.find("seed"), "seed", "expected a non-negative integer");
  config.seed = static_cast<std::uint64_t>(seed);
  config.output = r.optional<std::string>("output", "a path").value_or(config.name + ".h5");
  if (const auto ms = r.duration("checkpoint", "10s")) config.checkpoint = *ms;
  config.budget_trials = r.required<std::int64_t>("budget_trials", "an integer >= 1");
  if (config.budget_trials < 1 || config.budget_trials > kMaxTrials) {
    r.fail(r.find("budget_trials"), "budget_trials",
           fmt::format("expected an integer in [1, {}] (trials), got {}", kMaxTrials, config.budget_trials));
  }
  r.reject_unknown_keys();
}

/// Reads the keys an arm may set; `defaults` carries [search]'s values into [[search.arms]].
search::SamplerOptions read_arm(TableReader& r, search::SamplerOptions defaults) {
  auto o = std::move(defaults);
  o.name = r.optional<std::string>("name", "a string").value_or(o.name);
  o.strategy = r.optional<std::string>("strategy", "a string").value_or(o.strategy);
  const auto& strategies = search::strategy_names();
  if (std::find(strategies.begin(), strategies.end(), o.strategy) == strategies.end()) {
    r.fail(r.find("strategy"), "strategy",
           fmt::format("unknown strategy '{}'; expected one of: {}", o.strategy, fmt::join(strategies, ", ")));
  }
  o.grid_resolution = static_cast<int>(
      bounded_int(r, "grid_resolution", o.grid_resolution, 1, search::kMaxGridResolution, "values per parameter"));
  o.acquisition = r.choice("acquisition", search::kAcquisitionNames, o.acquisition);
  o.ucb_beta = r.optional<double>("ucb_beta", "a number").value_or(o.ucb_beta);
  if (!(o.ucb_beta >= 0.0)) r.fail(r.find("ucb_beta"), "ucb_beta", "expected a number >= 0");
  o.initial_points = static_cast<int>(bounded_int(r, "initial_points", o.initial_points, 1, 10'000, "trials"));
  if (const auto seed = r.optional<std::int64_t>("seed", "an integer")) {
    if (*seed < 0) r.fail(r.find("seed"), "seed", "expected a non-negative integer");
    o.seed = static_cast<std::uint64_t>(*seed);
  }
  o.cost = r.optional<std::string>("cost", "a string").value_or(o.cost);
  if (!o.cost.empty() && o.cost != "energy_j" && o.cost != "co2_g") {
    r.fail(r.find("cost"), "cost", fmt::format("unknown cost '{}'; expected energy_j or co2_g", o.cost));
  }
  if (o.name.empty()) o.name = o.strategy;
  return o;
}

/// Keys of [search] that hold for the whole study, not for one arm.
constexpr const char* kStudyWideSearchKeys[] = {"objective", "pruner", "pruner_warmup_epochs", "pruner_min_trials",
                                                "asha_eta"};

/// A grid arm must fit in memory and hold at least the arm's share of the trials.
void check_grid(TableReader& r, const search::SamplerOptions& arm, const StudyConfig& config) {
  if (arm.strategy != "grid" && arm.strategy != "sampled_grid") return;
  const auto points = search::grid_points(config.space, arm.grid_resolution);
  const auto share = config.budget_trials / static_cast<std::int64_t>(config.arms.size());
  if (points > search::kMaxGridPoints) {
    r.fail(r.find("arms") ? r.find("arms") : r.find("grid_resolution"), "grid_resolution",
           fmt::format("arm '{}': the grid has {} points, more than {}; lower grid_resolution", arm.name, points,
                       search::kMaxGridPoints));
  }
  if (points < static_cast<std::uint64_t>(share)) {
    r.fail(r.find("arms") ? r.find("arms") : r.find("grid_resolution"), "grid_resolution",
           fmt::format("arm '{}': the grid has {} points, fewer than the arm's {} trials; raise grid_resolution "
                       "or lower budget_trials to {}",
                       arm.name, points, share, points * config.arms.size()));
  }
}

/// The function family's parameters: x1 .. xD.
std::vector<std::string> function_parameter_names(const StudyConfig& config) {
  const auto& f = search::test_function(config.model.function);
  std::vector<std::string> names;
  for (std::size_t i = 1; i <= (f.dims ? f.dims : 20); ++i) names.push_back(fmt::format("x{}", i));
  return names;
}

/// Every name a search parameter of a trained network may take.
std::string setting_names() {
  std::vector<std::string_view> names;
  for (const auto& setting : settings()) names.push_back(setting.key);
  return fmt::format("{} (and the short names lr, momentum, batch_size, conv_blocks, channels, epochs)",
                     fmt::join(names, ", "));
}

/// [search.space.NAME] tables, with [search.space.GROUP.NAME] read as the parameter "GROUP.NAME".
void collect_space_tables(const toml::table& table, const std::string& prefix,
                          std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [name, node] : table) {
    const std::string key = prefix + std::string(name.str());
    const auto* sub = node.as_table();
    if (sub && !sub->contains("type") && !sub->empty() &&
        std::all_of(sub->begin(), sub->end(), [](const auto& kv) { return kv.second.is_table(); })) {
      collect_space_tables(*sub, key + ".", out);
    } else {
      out.emplace_back(key, &node);
    }
  }
}

/// [[search.arms]], or the one arm [search] itself describes (`top`).
void read_arms(TableReader& r, TableReader& root, const search::SamplerOptions& top, StudyConfig& config) {
  if (const toml::node* arms = r.find("arms")) {
    if (!arms->is_array_of_tables() || arms->as_array()->empty())
      r.fail(arms, "arms", "expected [[search.arms]] tables");
    int index = 0;
    for (const auto& item : *arms->as_array()) {
      TableReader arm_reader(*item.as_table(), root.file(), fmt::format("[[search.arms]] #{}", ++index));
      auto base = top;
      base.name.clear();
      for (const char* key : kStudyWideSearchKeys) {
        if (arm_reader.find(key)) {
          arm_reader.fail(arm_reader.find(key), key,
                          "holds for the whole study, not for one arm: set it in [search] (docs/search.md)");
        }
      }
      config.arms.push_back(read_arm(arm_reader, base));
      for (std::size_t i = 0; i + 1 < config.arms.size(); ++i) {
        if (config.arms[i].name == config.arms.back().name) {
          arm_reader.fail(arm_reader.find("name"), "name",
                          fmt::format("two arms are named '{}'; give each a distinct name", config.arms.back().name));
        }
      }
      arm_reader.reject_unknown_keys();
    }
  } else {
    config.arms.push_back(top);
  }
}

/// A setting that does not apply under the study's own settings (a beta1 with SGD) is an error,
/// unless the search varies what decides it (the family, the optimizer, the schedule): then a
/// trial it does not apply to records it as inactive.
void check_applies(TableReader& r, const toml::node* node, const std::string& name, const StudyConfig& config) {
  const Setting* setting = find_setting(name);
  if (!setting || setting->applies(train_settings(config))) return;
  if (setting->applies_to.starts_with("device")) {  // no search parameter changes the device
    r.fail(node, name,
           fmt::format("{} applies only to {}, and this study trains on the {}; remove it or set [training] "
                       "device = \"cuda\" (docs/gpu.md)",
                       setting->key, setting->applies_to, to_string(config.training.device)));
  }
  for (const auto& p : config.space.params()) {
    if (is_governing(*find_setting(p.name))) return;
  }
  r.fail(node, name,
         fmt::format("{} applies only to {}, and this study trains {} with {}; remove it or search the family or "
                     "optimizer (docs/models.md)",
                     setting->key, setting->applies_to, model_name(config.model),
                     enum_name(kOptimizerNames, config.optimizer.name)));
}

/// [search.space.NAME]: the parameters the model family takes, in the function's order.
std::vector<search::ParamSpec> read_space(TableReader& r, TableReader& root, const StudyConfig& config) {
  const toml::table* space = r.subtable("space");
  if (!space || space->empty()) r.fail(space, "space", "the search space is empty: add [search.space.NAME] tables");
  std::vector<std::pair<std::string, const toml::node*>> tables;
  collect_space_tables(*space, "", tables);
  std::vector<search::ParamSpec> params;
  const bool function = config.model.family == ModelFamily::kFunction;
  const auto function_names = function ? function_parameter_names(config) : std::vector<std::string>{};
  for (const auto& [key, node] : tables) {
    if (!node->is_table()) r.fail(node, key, "expected a table [search.space." + key + "]");
    if (function && std::find(function_names.begin(), function_names.end(), key) == function_names.end()) {
      r.fail(node, key,
             fmt::format("the function model has no parameter '{}'; expected one of: {}", key,
                         fmt::join(function_names, ", ")));
    }
    if (!function && !find_setting(key)) {
      r.fail(node, key, fmt::format("no setting is named '{}'; expected one of: {}", key, setting_names()));
    }
    params.push_back(read_param(key, *node->as_table(), root.file()));
    for (std::size_t i = 0; i + 1 < params.size(); ++i) {
      if (!function && find_setting(params[i].name) == find_setting(key)) {
        r.fail(node, key, fmt::format("'{}' and '{}' set the same setting", params[i].name, key));
      }
    }
    if (function && params.back().kind == search::ParamKind::kCategorical) {
      r.fail(node, key, "function parameters must be float or int");
    }
    if (!function) check_parameter_fits(r, *node, params.back(), train_settings(config));
  }
  if (function) {
    const auto& f = search::test_function(config.model.function);
    if (f.dims != 0 && params.size() != f.dims) {
      r.fail(space, "space",
             fmt::format("{} takes {} parameters x1..x{}, the space has {}", f.name, f.dims, f.dims, params.size()));
    }
    // toml++ keeps keys sorted: x1, x10, x2 ...; order the function's arguments by number.
    std::sort(params.begin(), params.end(),
              [](const auto& a, const auto& b) { return std::stoi(a.name.substr(1)) < std::stoi(b.name.substr(1)); });
  }
  return params;
}

void read_search_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("search");
  if (!t) root.fail(nullptr, "search", "missing table [search]");
  TableReader r(*t, root.file(), "[search]");
  search::SamplerOptions defaults;
  defaults.seed = config.seed;
  read_arms(r, root, read_arm(r, defaults), config);
  if (config.budget_trials % static_cast<std::int64_t>(config.arms.size()) != 0) {
    r.fail(r.find("arms"), "arms",
           fmt::format("budget_trials ({}) must divide equally over the {} arms", config.budget_trials,
                       config.arms.size()));
  }
  config.objective = r.optional<std::string>("objective", "a string").value_or("val_accuracy");
  if (config.objective != "val_accuracy") {
    r.fail(r.find("objective"), "objective", "expected 'val_accuracy' (maximised; for functions, -f(x))");
  }
  config.pruner.kind = r.choice("pruner", search::kPrunerNames, search::PrunerKind::kNone);
  config.pruner.warmup_epochs =
      static_cast<int>(bounded_int(r, "pruner_warmup_epochs", config.pruner.warmup_epochs, 1, 10'000, "epochs"));
  config.pruner.min_trials =
      static_cast<int>(bounded_int(r, "pruner_min_trials", config.pruner.min_trials, 1, kMaxTrials, "trials"));
  config.pruner.eta = static_cast<int>(bounded_int(r, "asha_eta", config.pruner.eta, 2, 100, "reduction factor"));

  config.space = search::SearchSpace(read_space(r, root, config));
  for (const auto& arm : config.arms) check_grid(r, arm, config);
  if (config.model.family != ModelFamily::kFunction) {
    std::vector<std::pair<std::string, const toml::node*>> tables;
    collect_space_tables(*r.subtable("space"), "", tables);
    for (const auto& [key, node] : tables) check_applies(r, node, key, config);
  }
  r.reject_unknown_keys();
}

void read_dataset_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("dataset");
  if (!t) return;
  TableReader r(*t, root.file(), "[dataset]");
  auto& d = config.dataset;
  d.name = r.choice("name", kDatasetNames, d.name);
  if (const auto path = r.optional<std::string>("path", "a directory")) {
    namespace fs = std::filesystem;
    d.path = fs::path(*path).is_absolute() ? *path : (fs::path(r.file()).parent_path() / *path).string();
  } else if (d.name == DatasetKind::kFashionMnist) {
    d.path = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
  } else if (d.name != DatasetKind::kSynthetic) {
    r.fail(nullptr, "path",
           fmt::format("the {} files are not packaged: give path = \"DIR\" (docs/datasets.md)", to_string(d.name)));
  } else {
    d.path.clear();
  }
  // The largest of these sets has 60,000 training and 10,000 test images: more is an error, not
  // a silent cap (synthetic images are generated: up to 1,000,000).
  const bool synthetic = d.name == DatasetKind::kSynthetic;
  d.train_subset =
      bounded_int(r, "train_subset", synthetic ? 5'000 : 0, 1, synthetic ? 1'000'000 : 60'000, "training images");
  d.test_subset =
      bounded_int(r, "test_subset", synthetic ? 1'000 : 0, 1, synthetic ? 1'000'000 : 10'000, "test images");
  d.validation_fraction = r.number("validation_fraction", d.validation_fraction, "a fraction in [0.01, 0.9]",
                                   [](double v) { return v >= 0.01 && v <= 0.9; });
  d.resize = bounded_int(r, "resize", 0, 4, 512, "pixels per side");
  d.channels = bounded_int(r, "channels", 0, 1, 3, "colour channels");
  if (d.channels == 2) r.fail(r.find("channels"), "channels", "expected 1 or 3");
  if (d.channels == 1 && (d.name == DatasetKind::kCifar10 || d.name == DatasetKind::kCifar100)) {
    r.fail(r.find("channels"), "channels", "CIFAR images have 3 channels; only 1 -> 3 is supported");
  }
  d.normalize = r.optional<bool>("normalize", "true or false").value_or(d.normalize);
  d.flip = r.optional<bool>("flip", "true or false").value_or(d.flip);
  d.shift = bounded_int(r, "shift", 0, 0, 16, "pixels of random translation");
  r.reject_unknown_keys();
}

/// The keys of [TABLE] that name a trainable setting (or one of its aliases), read into the
/// study's settings, which it returns; keys the caller has already read are left alone.
TrainSettings read_settings(TableReader& r, std::string_view table, StudyConfig& config) {
  auto s = train_settings(config);
  const std::string prefix = std::string(table) + ".";
  for (const auto& setting : settings()) {
    std::vector<std::string_view> names{setting.key};
    names.insert(names.end(), setting.aliases.begin(), setting.aliases.end());
    for (const auto name : names) {
      if (!name.starts_with(prefix)) continue;
      const std::string key(name.substr(prefix.size()));
      if (r.used(key)) continue;             // read by the caller
      const toml::node* node = r.find(key);  // also lists it among the keys an unknown one is told of
      if (!node) continue;
      const auto value = setting_value(*node);
      if (!value) r.fail(node, key, fmt::format("expected a value for {}, got {}", setting.key, r.type_name(*node)));
      if (auto why = assign(setting, *value, s)) r.fail(node, key, *why);
    }
  }
  config.model = s.model;
  config.optimizer = s.optimizer;
  config.training = s.training;
  return s;
}

void read_model_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("model");
  if (!t) return;
  TableReader r(*t, root.file(), "[model]");
  auto& m = config.model;
  m.family = r.choice("family", kModelFamilyNames, m.family);
  const auto& table = r.table();  // looked at, not read: read_settings reads arch and depth
  if (table.contains("arch") && (table.contains("family") || table.contains("depth"))) {
    r.fail(table.get("arch"), "arch", "give family (and depth) or arch, not both");
  }
  if (m.family == ModelFamily::kFunction) {
    const auto expected = fmt::format("a string: one of {}", fmt::join(search::test_function_names(), ", "));
    m.function = r.required<std::string>("function", expected.c_str());
    try {
      search::test_function(m.function);
    } catch (const ConfigError& e) {
      r.fail(r.find("function"), "function", e.what());
    }
    m.noise_sd = r.optional<double>("noise_sd", "a number").value_or(0.0);
    if (!(m.noise_sd >= 0.0)) r.fail(r.find("noise_sd"), "noise_sd", "expected a number >= 0");
    m.energy_per_epoch_j =
        r.optional<double>("energy_per_epoch_j", "a number of joules").value_or(m.energy_per_epoch_j);
    if (!(m.energy_per_epoch_j > 0.0))
      r.fail(r.find("energy_per_epoch_j"), "energy_per_epoch_j", "expected joules > 0");
    if (const auto ms = r.duration("epoch_time", "50ms", true)) m.epoch_time = *ms;  // "0s": zero-work trials
  }
  if (const auto path = r.optional<std::string>("path", "a path to a TorchScript file")) {
    namespace fs = std::filesystem;
    m.path = fs::path(*path).is_absolute() ? *path : (fs::path(r.file()).parent_path() / *path).string();
    config.key_lines["model.path"] = r.find("path")->source().begin.line;
  }
  const auto s = read_settings(r, "model", config);
  if (m.family == ModelFamily::kTorchScript && m.path.empty()) {
    r.fail(nullptr, "path", "the torchscript family needs path = \"net.pt\" (docs/models.md)");
  }
  if (auto why = check_settings(s)) r.fail(r.find("depth"), "depth", *why);
  r.reject_unknown_keys();
}

void read_optimizer_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("optimizer");
  if (!t) return;
  TableReader r(*t, root.file(), "[optimizer]");
  const auto s = read_settings(r, "optimizer", config);
  if (auto why = check_settings(s)) r.fail(r.find("nesterov"), "nesterov", *why);
  r.reject_unknown_keys();
}

void read_training_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("training");
  if (!t) return;
  TableReader r(*t, root.file(), "[training]");
  auto& tr = config.training;
  tr.threads = static_cast<int>(bounded_int(r, "threads", 0, 0, max_threads(), "LibTorch threads; 0 = automatic"));
  tr.device = r.choice("device", kDeviceNames, tr.device);
  if (const toml::node* device = r.find("device")) config.key_lines["training.device"] = device->source().begin.line;
  const auto s = read_settings(r, "training", config);
  if (auto why = check_settings(s)) r.fail(r.find("precision"), "precision", *why);
  r.reject_unknown_keys();
}

/// The fixed keys of [model], [optimizer] and [training] must apply to what the study trains.
void check_fixed_settings(TableReader& root, const StudyConfig& config) {
  for (const char* table : {"model", "optimizer", "training"}) {
    const toml::table* t = root.subtable(table);
    if (!t) continue;
    TableReader r(*t, root.file(), fmt::format("[{}]", table));
    for (const auto& [name, node] : *t) check_applies(r, &node, fmt::format("{}.{}", table, name.str()), config);
  }
}

std::vector<std::string> string_list(TableReader& r, std::string_view key) {
  std::vector<std::string> out;
  if (const toml::node* node = r.find(key)) {
    if (!node->is_array()) r.fail(node, key, "expected an array of strings");
    for (const auto& item : *node->as_array()) {
      if (!item.is_string()) r.fail(&item, key, "expected an array of strings");
      out.push_back(*item.value<std::string>());
    }
  }
  return out;
}

std::shared_ptr<const carbon::CarbonSource> trace_source(const SiteConfig& site, const std::string& path) {
  return std::make_shared<carbon::TraceCarbonSource>(path, site.interpolation, site.extrapolation);
}

/// The carbon source of a site: its constant, its region, or its trace (read and validated here).
std::shared_ptr<const carbon::CarbonSource> make_carbon_source(const SiteConfig& site) {
  if (!site.region.empty()) {
    const auto hit = carbon::lookup_region(site.region);
    return std::make_shared<carbon::ConstantCarbonSource>(
        site.intensity_g_per_kwh,
        fmt::format("region {} ({}): {} gCO2/kWh, {}", hit->key, hit->location, hit->intensity_g_per_kwh, hit->source));
  }
  if (site.trace.empty()) return std::make_shared<carbon::ConstantCarbonSource>(site.intensity_g_per_kwh);
  return trace_source(site, site.trace);
}

std::shared_ptr<const carbon::CarbonSource> make_marginal_source(const SiteConfig& site) {
  return site.marginal_trace.empty() ? nullptr : trace_source(site, site.marginal_trace);
}

/// A site's name and PUE; the name must stay distinct from the others' as a dataset name.
void read_site_identity(TableReader& r, const std::vector<SiteConfig>& others, SiteConfig& site) {
  site.name = r.required<std::string>("name", "a string");
  if (site.name.empty() || site.name.size() > 63) r.fail(r.find("name"), "name", "expected 1 to 63 characters");
  if (std::any_of(site.name.begin(), site.name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    r.fail(r.find("name"), "name", "a site name may not hold control characters");
  }
  for (const auto& other : others) {
    if (other.name == site.name) r.fail(r.find("name"), "name", fmt::format("site '{}' is defined twice", site.name));
    if (carbon_dataset_name(other.name) == carbon_dataset_name(site.name)) {
      r.fail(r.find("name"), "name",
             fmt::format("sites '{}' and '{}' would share the results dataset /carbon/{}; rename one", other.name,
                         site.name, carbon_dataset_name(site.name)));
    }
  }
  site.pue = r.required<double>("pue", "a number in [1, 5] (power usage effectiveness)");
  if (!(site.pue >= 1.0 && site.pue <= 5.0)) {
    r.fail(
        r.find("pue"), "pue",
        fmt::format("expected a number in [1, 5] (power usage effectiveness; 1.1-1.6 is typical), got {}", site.pue));
  }
}

/// Exactly one carbon source (a constant, a region of the table, or a trace), an optional
/// marginal trace, and, with `Sources::kLoad`, the sources themselves, built once here.
void read_site_carbon(TableReader& r, Sources sources, SiteConfig& site) {
  const auto constant = r.optional<double>("intensity_g_per_kwh", "a number of gCO2/kWh >= 0");
  const auto trace = r.optional<std::string>("trace", "a path to a CSV trace");
  const auto region = r.optional<std::string>("region", "a region name such as \"us-west1\" or \"oregon\"");
  if (constant.has_value() + trace.has_value() + region.has_value() != 1) {
    r.fail(r.find(trace    ? "trace"
                  : region ? "region"
                           : "intensity_g_per_kwh"),
           "intensity_g_per_kwh",
           "give exactly one carbon source: intensity_g_per_kwh = <gCO2/kWh>, region = \"us-west1\" or trace = "
           "\"file.csv\"");
  }
  namespace fs = std::filesystem;
  const auto resolve = [&](const std::string& path) {
    return fs::path(path).is_absolute() ? path : (fs::path(r.file()).parent_path() / path).string();
  };
  if (region) {
    const auto hit = carbon::lookup_region(*region);
    if (!hit) {
      std::vector<std::string> keys;
      for (const auto& row : carbon::region_table()) keys.push_back(row.key);
      r.fail(r.find("region"), "region",
             fmt::format("unknown region '{}'; the built-in table (docs/carbon.md) has: {}", *region,
                         fmt::join(keys, ", ")));
    }
    site.region = hit->key;
    site.intensity_g_per_kwh = hit->intensity_g_per_kwh;
  } else if (constant) {
    site.intensity_g_per_kwh = *constant;
    if (!(site.intensity_g_per_kwh >= 0.0) || !std::isfinite(site.intensity_g_per_kwh)) {
      r.fail(r.find("intensity_g_per_kwh"), "intensity_g_per_kwh",
             fmt::format("expected a number >= 0, got {}", site.intensity_g_per_kwh));
    }
  } else {
    site.intensity_g_per_kwh = std::nan("");
    site.trace = resolve(*trace);
  }
  if (trace || r.find("marginal_trace")) {
    site.interpolation = r.choice("interpolation", carbon::kInterpolationNames, carbon::Interpolation::kLinear);
    site.extrapolation = r.choice("extrapolation", carbon::kExtrapolationNames, carbon::Extrapolation::kError);
  }
  try {
    if (sources == Sources::kLoad) site.carbon = make_carbon_source(site);  // a trace's errors name its line
  } catch (const ConfigError& e) {
    r.fail(r.find(trace ? "trace" : "intensity_g_per_kwh"), trace ? "trace" : "intensity_g_per_kwh", e.what());
  }
  if (const auto marginal = r.optional<std::string>("marginal_trace", "a path to a CSV trace of marginal intensity")) {
    site.marginal_trace = resolve(*marginal);
    try {
      if (sources == Sources::kLoad) site.marginal = make_marginal_source(site);
    } catch (const ConfigError& e) {
      r.fail(r.find("marginal_trace"), "marginal_trace", e.what());
    }
  }
}

/// Where the site's workers come from: a rank count, a host list, or (for submit) a partition.
void read_site_ranks(TableReader& r, SiteConfig& site) {
  site.ranks = static_cast<int>(bounded_int(r, "ranks", 0, 1, 100'000, "worker ranks at this site"));
  site.hosts = string_list(r, "hosts");
  site.partition = r.optional<std::string>("partition", "a Slurm partition name").value_or("");
  if (!site.partition.empty() && !site.hosts.empty()) {
    r.fail(r.find("partition"), "partition", "give either a partition (with ranks) or hosts, not both");
  }
  if (site.ranks > 0 && !site.hosts.empty()) r.fail(r.find("hosts"), "hosts", "give either ranks or hosts, not both");
}

void read_sites(TableReader& root, StudyConfig& config, Sources sources) {
  const toml::node* node = root.find("sites");
  if (!node) root.fail(nullptr, "sites", "missing; add at least one [[sites]] table");
  if (!node->is_array_of_tables()) root.fail(node, "sites", "expected [[sites]] tables");
  int index = 0;
  for (const auto& item : *node->as_array()) {
    TableReader r(*item.as_table(), root.file(), fmt::format("[[sites]] #{}", ++index));
    SiteConfig site;
    read_site_identity(r, config.sites, site);
    read_site_carbon(r, sources, site);
    read_site_ranks(r, site);
    r.reject_unknown_keys();
    config.sites.push_back(std::move(site));
  }
}

void read_time_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("time");
  if (!t) return;
  TableReader r(*t, root.file(), "[time]");
  const auto start = r.required<std::string>("start", "a UTC time such as \"2020-06-01T00:00:00Z\"");
  double unix_s = 0;
  if (!parse_utc_timestamp(start, unix_s)) {
    r.fail(r.find("start"), "start", fmt::format("'{}' is not a UTC time such as \"2020-06-01T00:00:00Z\"", start));
  }
  config.time.start_unix_s = unix_s;
  config.time.scale = r.optional<double>("scale", "a number > 0").value_or(1.0);
  if (!(config.time.scale > 0.0) || !std::isfinite(config.time.scale)) {
    r.fail(r.find("scale"), "scale", "expected a number > 0 (trace seconds per real second)");
  }
  r.reject_unknown_keys();
}

void read_profiling_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("profiling");
  if (!t) return;
  TableReader r(*t, root.file(), "[profiling]");
  config.profiling.layers = r.optional<bool>("layers", "true or false").value_or(false);
  const auto every = r.optional<std::int64_t>("every", "an integer >= 1").value_or(config.profiling.every);
  if (every < 1 || every > 1'000'000) r.fail(r.find("every"), "every", "expected an integer in [1, 1000000] (steps)");
  config.profiling.every = static_cast<int>(every);
  if (config.profiling.layers && config.model.family == ModelFamily::kFunction) {
    r.fail(r.find("layers"), "layers", "the function family has no layers to profile");
  }
  r.reject_unknown_keys();
}

void read_scheduling_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("scheduling");
  if (!t) return;
  TableReader r(*t, root.file(), "[scheduling]");
  auto& s = config.scheduling;
  s.policy = r.choice("policy", kPolicyNames, s.policy);
  s.forecast = r.choice("forecast", carbon::kForecastNames, s.forecast);
  const auto seconds = [](std::chrono::milliseconds ms) { return std::chrono::duration<double>(ms).count(); };
  if (const auto ms = r.duration("max_delay", "6h")) s.max_delay_s = seconds(*ms);
  if (const auto ms = r.duration("deadline", "48h")) s.deadline_s = seconds(*ms);
  s.min_saving = r.number("min_saving", s.min_saving, "a fraction in [0, 1)", [](double v) { return v >= 0 && v < 1; });
  s.budget_g_co2 = r.number("budget_g_co2", 0.0, "grams of CO2 > 0", [](double v) { return v >= 0; });
  s.idle_power_w = r.number("idle_power_w", s.idle_power_w, "watts >= 0", [](double v) { return v >= 0; });
  if (s.policy == PolicyKind::kDeferral && s.max_delay_s <= 0.0) {
    r.fail(r.find("policy"), "max_delay", "policy \"deferral\" needs max_delay, e.g. max_delay = \"6h\"");
  }
  if (s.policy == PolicyKind::kCarbonBudget && !(s.budget_g_co2 > 0.0)) {
    r.fail(r.find("policy"), "budget_g_co2", "policy \"carbon_budget\" needs budget_g_co2 = <grams>");
  }
  r.reject_unknown_keys();
}

void read_simulate_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("simulate");
  if (!t) return;
  TableReader r(*t, root.file(), "[simulate]");
  auto& s = config.simulate;
  if (const auto ms = r.duration("trial_duration", "10min"))
    s.trial_duration_s = std::chrono::duration<double>(*ms).count();
  s.trial_power_w = r.number("trial_power_w", s.trial_power_w, "watts > 0", [](double v) { return v > 0; });
  s.duration_per_unit =
      r.number("duration_per_unit", s.duration_per_unit, "a number >= 0", [](double v) { return v >= 0; });
  r.reject_unknown_keys();
}

/// A duration key that must lie in [lo, hi].
std::optional<std::chrono::milliseconds> bounded_duration(TableReader& r, std::string_view key, const char* example,
                                                          std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
  const auto ms = r.duration(key, example);
  if (ms && (*ms < lo || *ms > hi)) {
    r.fail(r.find(key), key,
           fmt::format("expected a duration in [{}, {}], got {}", format_duration(lo), format_duration(hi),
                       format_duration(*ms)));
  }
  return ms;
}

void read_faults_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("faults");
  if (!t) return;
  TableReader r(*t, root.file(), "[faults]");
  using std::chrono::hours;
  using std::chrono::seconds;
  auto& f = config.faults;
  if (const auto ms = bounded_duration(r, "heartbeat_timeout", "1min", seconds(1), hours(1))) f.heartbeat_timeout = *ms;
  f.trial_timeout = bounded_duration(r, "trial_timeout", "2h", seconds(1), hours(24 * 30));
  f.retries = static_cast<int>(bounded_int(r, "retries", 0, 0, 10, "re-runs of a failed or timed-out trial"));
  r.reject_unknown_keys();
}

void read_slurm_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("slurm");
  if (!t) return;
  TableReader r(*t, root.file(), "[slurm]");
  auto& s = config.slurm;
  const auto seconds = [](std::chrono::milliseconds ms) { return std::chrono::duration<double>(ms).count(); };
  s.partition = r.optional<std::string>("partition", "a partition name").value_or("");
  if (const auto ms = r.duration("time", "2h")) s.time_limit_s = seconds(*ms);
  s.account = r.optional<std::string>("account", "an account name").value_or("");
  const auto cpus = r.optional<std::int64_t>("cpus_per_task", "an integer >= 1").value_or(1);
  if (cpus < 1 || cpus > 4096) r.fail(r.find("cpus_per_task"), "cpus_per_task", "expected an integer in [1, 4096]");
  s.cpus_per_task = static_cast<int>(cpus);
  s.mem_per_cpu = r.optional<std::string>("mem_per_cpu", "a size such as \"2G\"").value_or("");
  s.launcher = r.choice("launcher", kLauncherNames, s.launcher);
  s.launcher_args = string_list(r, "launcher_args");
  s.environment = string_list(r, "environment");
  for (const auto& pair : s.environment) {
    const auto eq = pair.find('=');
    const auto name = pair.substr(0, eq);
    if (eq == std::string::npos || eq == 0 ||
        name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
            std::string::npos) {
      r.fail(r.find("environment"), "environment", fmt::format("'{}' is not NAME=value", pair));
    }
  }
  if (const auto ms = r.duration("signal_before", "2min")) s.signal_before_s = seconds(*ms);
  if (s.signal_before_s >= s.time_limit_s) {
    r.fail(r.find("signal_before"), "signal_before", "must be shorter than the time limit");
  }
  s.requeue = r.optional<bool>("requeue", "true or false").value_or(false);
  s.sbatch_options = string_list(r, "sbatch_options");
  for (const auto& option : s.sbatch_options) {
    if (!option.starts_with("--") || option.find('\n') != std::string::npos) {
      r.fail(r.find("sbatch_options"), "sbatch_options",
             fmt::format("'{}' is not one sbatch option (expected e.g. \"--qos=short\")", option));
    }
  }
  r.reject_unknown_keys();
}

void read_energy_table(TableReader& root, StudyConfig& config) {
  const toml::table* t = root.subtable("energy");
  if (!t) return;
  TableReader r(*t, root.file(), "[energy]");
  // A synthetic function's energy is its model's ([model] energy_per_epoch_j): asking for a
  // meter there would be silently ignored, so it is refused.
  for (const char* key : {"meters", "idle_baseline", "external_log"}) {
    if (config.model.family == ModelFamily::kFunction && r.find(key)) {
      r.fail(r.find(key), key,
             "the function family measures nothing: its energy is synthetic ([model] energy_per_epoch_j); remove "
             "this key or train a network");
    }
  }
  if (const toml::node* meters = r.find("meters")) {
    config.key_lines["energy.meters"] = meters->source().begin.line;
    if (!meters->is_array()) r.fail(meters, "meters", "expected an array of meter names");
    config.energy.meters.clear();
    for (const auto& m : *meters->as_array()) {
      const auto name = m.value<std::string>();
      const auto& known = energy::known_meter_names();
      if (!name || std::find(known.begin(), known.end(), *name) == known.end()) {
        r.fail(&m, "meters", fmt::format("unknown meter; expected one of: {}", fmt::join(known, ", ")));
      }
      config.energy.meters.push_back(*name);
    }
    if (config.energy.meters.empty()) r.fail(meters, "meters", "name at least one meter");
  }
  if (const auto ms = r.duration("interval", "100ms")) config.energy.interval = *ms;
  if (const auto ms = r.duration("idle_baseline", "5s")) config.energy.idle_baseline = *ms;
  config.energy.cpu_tdp_w = r.optional<double>("cpu_tdp_w", "a number of watts");
  if (config.energy.cpu_tdp_w && !(*config.energy.cpu_tdp_w > 0.0)) {
    r.fail(r.find("cpu_tdp_w"), "cpu_tdp_w", "expected a number of watts > 0");
  }
  if (const auto log = r.optional<std::string>("external_log", "a path to a power log")) {
    namespace fs = std::filesystem;
    config.energy.external_log =
        fs::path(*log).is_absolute() ? *log : (fs::path(r.file()).parent_path() / *log).string();
  }
  config.energy.external_host = r.optional<std::string>("external_host", "a host name").value_or("");
  if (std::find(config.energy.meters.begin(), config.energy.meters.end(), "external") != config.energy.meters.end() &&
      config.energy.external_log.empty()) {
    r.fail(r.find("meters"), "meters", "the external meter needs external_log = \"power.csv\"");
  }
  if (const auto cores = r.optional<std::int64_t>("cpu_cores", "an integer")) {
    if (*cores < 1) r.fail(r.find("cpu_cores"), "cpu_cores", "expected an integer >= 1");
    config.energy.cpu_cores = static_cast<int>(*cores);
  }
  r.reject_unknown_keys();
}

}  // namespace

energy::MeterOptions meter_options(const StudyConfig& config) {
  energy::MeterOptions options;
  options.cpu_tdp_w = config.energy.cpu_tdp_w;
  options.cpu_cores = config.energy.cpu_cores;
  options.external_log = config.energy.external_log;
  options.external_host = config.energy.external_host;
  return options;
}

std::vector<std::string> recorded_meters(const StudyConfig& config) {
  if (config.model.family == ModelFamily::kFunction) return {"synthetic"};
  return config.energy.meters;
}

TrainSettings train_settings(const StudyConfig& config) {
  return {config.model, config.optimizer, config.training, config.seed};
}

std::string key_error(const StudyConfig& config, const std::string& dotted, const std::string& what) {
  const auto dot = dotted.find('.');
  const auto it = config.key_lines.find(dotted);
  const bool known = it != config.key_lines.end() && it->second > 0;  // 0: a value --set put there
  const std::string where = known ? fmt::format("{}:{}", config.path, it->second) : config.path;
  return fmt::format("{}: key '{}' in [{}]: {}", where, dotted.substr(dot + 1), dotted.substr(0, dot), what);
}

int max_threads() { return 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

std::string carbon_dataset_name(const std::string& site) {
  std::string name = site;
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  if (name.empty() || name.front() == '.') name.insert(name.begin(), '_');
  return name;
}

std::chrono::milliseconds heartbeat_interval(const FaultsConfig& faults) {
  using std::chrono::milliseconds;
  return std::clamp(faults.heartbeat_timeout / 6, milliseconds(50), milliseconds(10'000));
}

namespace {

/// KEY=VALUE from the command line, set into the parsed file: VALUE is TOML ("4", "0.1", "true",
/// "[1, 2]", "\"text\""), or else taken as a string. KEY names nested tables with dots.
void apply_override(toml::table& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  const std::string key = assignment.substr(0, eq);
  const auto fail = [&](const std::string& what) {
    throw ConfigError(fmt::format("--set '{}': {}", assignment, what));
  };
  if (eq == std::string::npos || key.empty() || key.front() == '.' || key.back() == '.') {
    fail("expected TABLE.KEY=VALUE, e.g. --set study.budget_trials=4");
  }
  const std::string text = assignment.substr(eq + 1);
  toml::table value;
  try {
    value = toml::parse("v = " + text);
  } catch (const toml::parse_error&) {
    toml::table quoted;
    quoted.insert("v", text);
    value = std::move(quoted);
  }
  toml::table* table = &root;
  std::size_t start = 0;
  for (auto dot = key.find('.'); dot != std::string::npos; start = dot + 1, dot = key.find('.', start)) {
    const auto part = key.substr(start, dot - start);
    if (!table->contains(part)) table->insert(part, toml::table{});
    table = table->get(part)->as_table();
    if (!table) fail(fmt::format("'{}' is not a table (arrays of tables such as [[sites]] cannot be set)", part));
  }
  table->insert_or_assign(key.substr(start), *value.get("v"));
}

}  // namespace

StudyConfig parse_study(const std::string& toml_text, const std::string& path, Sources sources,
                        const std::vector<std::string>& overrides) {
  toml::table root_table;
  try {
    root_table = toml::parse(toml_text, path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  std::string effective_text = toml_text;
  if (!overrides.empty()) {
    for (const auto& o : overrides) apply_override(root_table, o);
    std::ostringstream out;
    out << "# " << path << " with --set " << fmt::format("{}", fmt::join(overrides, " --set ")) << "\n"
        << toml::toml_formatter(root_table) << "\n";
    effective_text = out.str();
  }
  StudyConfig config;
  config.path = path;
  config.toml_text = effective_text;
  TableReader root(root_table, path, "the study file");
  read_study_table(root, config);
  read_model_table(root, config);
  read_optimizer_table(root, config);
  read_training_table(root, config);
  read_search_table(root, config);
  check_fixed_settings(root, config);
  read_dataset_table(root, config);
  read_sites(root, config, sources);
  read_energy_table(root, config);
  read_profiling_table(root, config);
  read_scheduling_table(root, config);
  read_simulate_table(root, config);
  read_slurm_table(root, config);
  read_faults_table(root, config);
  read_time_table(root, config);
  root.reject_unknown_keys();
  return config;
}

StudyConfig load_study(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open the study file", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_study(text.str(), path, Sources::kLoad, overrides);
}

}  // namespace cs::study
