// The study file (TOML): its typed form, and the parser that names file:line:key on every error.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "search/space.hpp"

namespace cs::io {

struct SiteConfig {
  std::string name;
  double pue = 1.0;
  double intensity_g_per_kwh = 0.0;  ///< constant carbon intensity
  int ranks = 0;                     ///< how many worker ranks stand here (0 = by hosts)
  std::vector<std::string> hosts;    ///< or: the hosts whose ranks stand here
};

struct DatasetConfig {
  std::string name = "fashion-mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";
  std::int64_t train_subset = 0;  ///< 0 = all images
  std::int64_t test_subset = 0;
};

struct TrainingConfig {
  int epochs = 1;
  double lr = 0.01;  ///< defaults for parameters the search space does not set
  double momentum = 0.9;
  std::int64_t batch_size = 64;
  std::int64_t conv_blocks = 2;
  std::int64_t channels = 16;
  int threads = 0;  ///< LibTorch intra-op threads per worker; 0 = the node's cores / workers on it
};

struct EnergyConfig {
  std::vector<std::string> meters{"estimate"};
  std::chrono::milliseconds interval{100};
  std::optional<double> cpu_tdp_w;  ///< override of the built-in TDP table
  std::optional<int> cpu_cores;
};

struct StudyConfig {
  std::string path;       ///< the study file, as given
  std::string toml_text;  ///< verbatim, for the results file
  std::string name;
  std::uint64_t seed = 0;
  std::string output;
  std::int64_t budget_trials = 0;
  std::string strategy = "random";
  int grid_resolution = 3;
  std::string objective = "val_accuracy";
  search::SearchSpace space;
  DatasetConfig dataset;
  std::string model_family = "simple_cnn";
  TrainingConfig training;
  std::vector<SiteConfig> sites;
  EnergyConfig energy;
};

/// Reads and validates a study file. Throws ConfigError("FILE:LINE: key 'K': ...") on bad input.
StudyConfig load_study(const std::string& path);
/// The same for TOML text already in memory; `path` only names it in messages.
StudyConfig parse_study(const std::string& toml_text, const std::string& path);

/// The names the simple_cnn trainer understands as search parameters.
const std::vector<std::string>& trainable_parameter_names();

}  // namespace cs::io
