// `carbonsweep report`: Markdown and self-contained HTML with gnuplot SVGs and statistics.
#pragma once

#include <string>

namespace cs::report {

struct ReportOptions {
  std::string results_path;
  std::string out_dir;
  std::string gnuplot = "gnuplot";  ///< found on PATH; started with an argument vector, no shell
};

struct ReportFiles {
  std::string markdown;
  std::string html;
  int plots = 0;
  std::string warning;  ///< e.g. plots skipped because gnuplot is missing
};

/// Throws IoError for a results file that cannot be read or a directory that cannot be written.
ReportFiles write_report(const ReportOptions& options);

}  // namespace cs::report
