// The append-only journal of finished trials: checksummed records, made durable with fsync
// before the coordinator counts a trial as done. `--resume` rebuilds the study from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/trial_result.hpp"

namespace cs::io {

struct JournalContents {
  std::string study_toml;  ///< the study that wrote it
  /// In the order they were recorded: a trial's first result, or the one that ended an
  /// interrupted attempt (which then moves to `attempts`).
  std::vector<TrialResult> results;
  std::vector<TrialResult> attempts;  ///< attempts that were retried or interrupted
  std::uint64_t valid_bytes = 0;      ///< the prefix of whole, checksummed records
  std::uint64_t torn_bytes = 0;       ///< what followed it: a record cut short by a kill
};

/// Reads a journal, stopping at the first torn or corrupt record. Throws IoError naming the
/// path when the file is missing or its header is not a carbonsweep journal.
JournalContents read_journal(const std::string& path);

class Journal {
 public:
  /// Starts a new journal (replacing any file there) whose header records the study.
  static Journal create(const std::string& path, const std::string& study_toml);
  /// Reopens a journal for appending, first cutting it to its valid prefix.
  static Journal reopen(const std::string& path, std::uint64_t valid_bytes);

  Journal(Journal&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  /// Writes one record (not yet durable).
  void append(const TrialResult& result);
  /// Writes an attempt that was retried: its energy counts, it is not the trial's result.
  void append_attempt(const TrialResult& attempt);
  /// fdatasync: every record appended so far survives a crash. One call commits a group.
  void sync();

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void write_record(std::uint8_t type, const std::vector<std::byte>& body);

  std::string path_;
  int fd_ = -1;
};

}  // namespace cs::io
