// The HDF5 results file: one row per trial and its parameters, epochs, power samples and sites.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbon/trace_carbon_source.hpp"
#include "io/background_sync.hpp"
#include "io/hdf5.hpp"
#include "io/journal.hpp"
#include "io/trial_codec.hpp"
#include "io/trial_result.hpp"
#include "io/trial_sink.hpp"
#include "study/study_config.hpp"

namespace cs::io {

inline constexpr std::int64_t kSchemaVersion = 5;

struct StudyMeta {
  std::string study_toml;  ///< the study file verbatim
  search::SearchSpace space;
  std::vector<study::SiteConfig> sites;
  std::vector<std::string> meters;                ///< meter names, the order of the energy columns
  std::map<std::string, std::string> provenance;  ///< root attributes: tool_version, git_sha, hosts, ...
  double meter_interval_s = 0.1;
  double idle_baseline_s = 0.0;
};

struct ResumeReport {
  std::size_t recovered = 0;     ///< finished trials found
  std::uint64_t torn_bytes = 0;  ///< a torn last journal record, dropped
  std::string source;            ///< the journal or, without one, the results file
};

/// Holds the study's results: a journal (PATH.journal) that makes each finished trial
/// durable, and the HDF5 file (PATH) rewritten at checkpoints. Coordinator (rank 0) only.
class ResultsStore final : public TrialSink {
 public:
  /// Checks that the output can be created (a file name, not a directory, within a writable
  /// folder or one that can be made); throws IoError naming the path if not. Creates nothing.
  ResultsStore(std::string path, StudyMeta meta);
  ~ResultsStore();  ///< removes the scratch file of power samples
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  /// A new study: replaces any journal and writes an empty results file.
  void start_fresh();
  /// Loads the finished trials of an interrupted run of the same study from the journal (or,
  /// without one, from the results file), drops a torn last record, and goes on appending.
  /// Throws IoError when they belong to another study or cannot be read.
  ResumeReport open_for_resume();

  /// Records a finished trial (in memory and in the journal, not yet durable).
  void append(TrialResult result) override;
  void append_attempt(TrialResult attempt) override;
  /// Makes everything appended so far durable (one fsync for the group).
  void commit() override;
  /// The same fsync on a thread of its own (io/background_sync.hpp).
  std::uint64_t commit_async() override;
  std::uint64_t durable() override;
  void wait_durable(std::uint64_t ticket) override;
  /// Writes the whole file to PATH.tmp and renames it over PATH, so that a reader never
  /// sees a half-written file.
  void flush() override;

  /// The workers' idle time and its cost, for /idle at the next flush().
  void set_idle(std::vector<IdleRecord> idle) override { idle_ = std::move(idle); }
  /// Sets a root attribute (provenance) for the next flush().
  void set_attribute(const std::string& key, const std::string& value) { meta_.provenance[key] = value; }

  /// The finished trials, decoded (a copy: for resuming, summaries and tests).
  std::vector<TrialResult> results() const { return results_.all(); }
  std::vector<TrialResult> attempts() const { return attempts_.all(); }
  std::size_t result_count() const { return results_.size(); }
  /// Calls `visit` with each finished trial in order, decoding a batch at a time.
  void for_each_result(const std::function<void(const TrialResult&)>& visit) const;
  const std::string& path() const { return path_; }
  std::string journal_path() const { return path_ + ".journal"; }
  /// The power samples of the finished trials stream to this scratch file as /samples rows and
  /// are read back a batch at a time at each checkpoint, never held in memory (the journal keeps
  /// them durable). Removed with the store; a killed run's is replaced by the next.
  std::string samples_path() const { return path_ + ".samples"; }

 private:
  std::string path_;
  StudyMeta meta_;
  void append_in_memory(TrialResult& result);
  void append_attempt_in_memory(TrialResult& attempt);
  void open_samples();
  void spill_samples(TrialResult& result);
  void write_samples(h5::TableWriter& writer);

  /// Kept encoded (io/trial_codec.hpp), without their power samples: a finished trial costs the
  /// coordinator the size of its record, not of a TrialResult, and checkpoints decode a batch
  /// at a time.
  EncodedResults results_;
  EncodedResults attempts_;  ///< retried, or interrupted and run again by --resume
  std::vector<IdleRecord> idle_;
  std::optional<Journal> journal_;
  std::unique_ptr<BackgroundSync> syncer_;  ///< of journal_, started by the first commit_async()
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> samples_{nullptr, &std::fclose};
  std::size_t sample_rows_ = 0;
};

struct LoadedResults {
  std::int64_t schema_version = 0;
  std::string study_toml;
  std::string study_name;   ///< [study] name from study_toml
  double time_scale = 1.0;  ///< [time] scale from study_toml: trace seconds per real second
  std::map<std::string, std::string> provenance;
  std::vector<TrialResult> trials;    ///< with spec.params, epochs and per-meter energy
  std::vector<TrialResult> attempts;  ///< /attempts: retried or interrupted attempts (no children)
  /// Name, PUE, intensity and interpolation as used; `carbon` is the series the site was priced
  /// with (/carbon/<site>), held beyond its ends.
  std::vector<study::SiteConfig> sites;
  std::vector<IdleRecord> idle;  ///< /idle: per worker
};

/// Checks that `path` can become the results file: not empty or too long, not a directory,
/// within a writable folder or one that can be made. Throws IoError naming it; creates nothing,
/// so a refused run leaves nothing behind.
void check_output_path(const std::string& path);

/// Creates the output's folder when it is missing (before the first write); true when it did.
bool open_output_folder(const std::string& path);

/// Reads a results file; throws IoError naming the path when it is not one (or a newer one). A
/// read that HDF5 never finishes (a corrupt file) ends the process with exit 2 after a limit.
LoadedResults load_results(const std::string& path);

/// The /trials table as the results file holds it (one column per field, energy per meter in
/// `meters` order): what exports write, so they hold every column.
h5::Table trials_table(const std::vector<TrialResult>& results, const std::vector<std::string>& meters);

}  // namespace cs::io
