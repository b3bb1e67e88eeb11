// Running a program with an argument vector (never a shell) and capturing its standard output.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cs {

struct ProgramOutput {
  int exit_code = -1;  ///< -1 when it was killed by a signal
  std::string out;     ///< standard output
};

/// Runs argv[0] found on PATH. nullopt when it cannot be started (not installed).
/// Standard error is passed through.
std::optional<ProgramOutput> run_program(const std::vector<std::string>& argv);

}  // namespace cs
