// gnuplot by argument vector in the plots folder, under a time limit.
#include "report/figures.hpp"

#include <fstream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/subprocess.hpp"

namespace cs::report {

namespace fs = std::filesystem;

/// Runs gnuplot on a script in `plots` (its relative file names land there), for at most a
/// minute; true on success.
namespace {

bool run_gnuplot(const std::string& gnuplot, const fs::path& plots, const std::string& script) {
  ProgramOptions options;
  options.working_directory = plots.string();
  options.time_limit = std::chrono::minutes(1);
  const auto result = run_program({gnuplot, script}, options);
  return result && result->exit_code == 0;
}

}  // namespace

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw IoError(fmt::format("{}: cannot write", path.string()));
}

void render_plot(Section& section, const fs::path& plots, const std::string& gnuplot, const std::string& name,
                 const std::string& body, int& made) {
  write_text(
      plots / (name + ".gp"),
      fmt::format("set terminal svg size 720,420 noenhanced font 'sans,11'\nset output '{}.svg'\n{}", name, body));
  if (run_gnuplot(gnuplot, plots, name + ".gp")) {
    section.plots.push_back(name + ".svg");
    ++made;
  }
}

}  // namespace cs::report
