// One writer per report format over the same document (google/benchmark's reporters).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "report/document.hpp"

namespace cs::report {

class ReportWriter {
 public:
  virtual ~ReportWriter() = default;
  /// The file name it writes in the report folder.
  virtual std::string file_name() const = 0;
  virtual std::string render(const std::string& title, const std::vector<Section>& sections) const = 0;
};

/// report.md: headings, paragraphs, pipe tables, figures as links into plots/.
class MarkdownWriter final : public ReportWriter {
 public:
  std::string file_name() const override { return "report.md"; }
  std::string render(const std::string& title, const std::vector<Section>& sections) const override;
};

/// report.html: self-contained, the SVG figures inlined from `plots`.
class HtmlWriter final : public ReportWriter {
 public:
  explicit HtmlWriter(std::filesystem::path plots) : plots_(std::move(plots)) {}
  std::string file_name() const override { return "report.html"; }
  std::string render(const std::string& title, const std::vector<Section>& sections) const override;

 private:
  std::filesystem::path plots_;
};

}  // namespace cs::report
