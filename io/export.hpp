// `carbonsweep export`: a results file as a flat CSV, or as CodeCarbon's emissions.csv.
#pragma once

#include <string>

namespace cs::io {

/// One row per trial: every /trials column, then every parameter. Returns the rows written.
/// Throws IoError for an unreadable results file or an unwritable output.
std::size_t export_csv(const std::string& results_path, const std::string& out_path);

/// CodeCarbon 2.x's emissions.csv columns, one row per trial (emissions in kg, energy in kWh).
std::size_t export_codecarbon(const std::string& results_path, const std::string& out_path);

}  // namespace cs::io
