// Figures: gnuplot scripts and their data written to the report's plots/ folder, rendered to SVG.
#pragma once

#include <filesystem>
#include <string>

#include "report/document.hpp"

namespace cs::report {

/// Writes `text` to `path`; IoError when it cannot.
void write_text(const std::filesystem::path& path, const std::string& text);

/// Writes plots/NAME.gp (an SVG terminal, then `body`), runs gnuplot in `plots` for at most a
/// minute, and adds NAME.svg to the section when it rendered (counting it in `made`).
void render_plot(Section& section, const std::filesystem::path& plots, const std::string& gnuplot,
                 const std::string& name, const std::string& body, int& made);

}  // namespace cs::report
