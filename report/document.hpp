// The report as a document: sections of paragraphs, tables and figures, built by the analysis
// and rendered by one writer per format.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/units.hpp"

namespace cs::report {

struct TableBlock {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Section {
  std::string title;
  std::vector<std::string> paragraphs;
  std::vector<TableBlock> tables;
  std::vector<std::string> plots;  ///< file names under plots/
};

/// Joules as kWh text with six decimals, as every report table shows energy.
inline std::string kwh(double joules) { return fmt::format("{:.6f}", joules / kJoulesPerKwh); }

}  // namespace cs::report
