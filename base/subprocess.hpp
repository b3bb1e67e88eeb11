// Running a program with an argument vector (never a shell) and capturing its standard output.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cs {

struct ProgramOutput {
  int exit_code = -1;      ///< -1 when it was killed by a signal
  std::string out;         ///< standard output
  bool timed_out = false;  ///< killed (SIGKILL) because it ran past the time limit
};

struct ProgramOptions {
  std::string working_directory;  ///< empty: this process's
  /// Every wait has a limit: past it the program is killed and `timed_out` is set.
  std::chrono::milliseconds time_limit{std::chrono::minutes(2)};
};

/// Runs argv[0] found on PATH. nullopt when it cannot be started (not installed).
/// Standard error is passed through. Thread-safe; signals that interrupt the wait are retried.
std::optional<ProgramOutput> run_program(const std::vector<std::string>& argv, const ProgramOptions& options = {});

}  // namespace cs
