// The HDF5 results file: one row per trial and its parameters, epochs, power samples and sites.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/study_config.hpp"
#include "io/trial_result.hpp"

namespace cs::io {

inline constexpr std::int64_t kSchemaVersion = 1;

struct StudyMeta {
  std::string study_toml;  ///< the study file verbatim
  search::SearchSpace space;
  std::vector<SiteConfig> sites;
  std::vector<std::string> meters;                ///< meter names, the order of the energy columns
  std::map<std::string, std::string> provenance;  ///< root attributes: tool_version, git_sha, hosts, ...
};

/// Holds the study's results and writes them as one HDF5 file. Coordinator (rank 0) only.
class ResultsStore {
 public:
  /// Checks that the output directory can be written; throws IoError naming the path if not.
  ResultsStore(std::string path, StudyMeta meta);

  void append(TrialResult result);
  /// Writes the whole file to PATH.tmp and renames it over PATH, so that a reader never
  /// sees a half-written file.
  void flush();

  const std::vector<TrialResult>& results() const { return results_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  StudyMeta meta_;
  std::vector<TrialResult> results_;
};

struct LoadedResults {
  std::int64_t schema_version = 0;
  std::string study_toml;
  std::map<std::string, std::string> provenance;
  std::vector<TrialResult> trials;  ///< with spec.params, epochs and per-meter energy
};

/// Reads a results file; throws IoError naming the path when it is not one (or a newer one).
LoadedResults load_results(const std::string& path);

}  // namespace cs::io
