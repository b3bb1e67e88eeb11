// Every kind of input a user hands carbonsweep, read by the code that reads it in a run, without
// LibTorch or MPI: for the bad-input corpus under the sanitizers and for the fuzz targets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cs::tools {

/// "study", "trace", "power-log", "results", "journal", "message".
const std::vector<std::string>& input_kinds();

/// Reads `path` as an input of `kind`; throws cs::Error (with the path and where) when it is
/// broken. Throws std::invalid_argument for an unknown kind.
void read_input(std::string_view kind, const std::string& path);

}  // namespace cs::tools
