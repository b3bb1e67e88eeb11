// The Markdown and HTML writers.
#include "report/writers.hpp"

#include <fstream>
#include <sstream>

namespace cs::report {

namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string MarkdownWriter::render(const std::string& title, const std::vector<Section>& sections) const {
  std::string md = "# " + title + "\n";
  for (const auto& s : sections) {
    md += "\n## " + s.title + "\n\n";
    for (const auto& p : s.paragraphs) md += p + "\n\n";
    for (const auto& t : s.tables) {
      std::string sep;
      md += "|";
      for (const auto& h : t.header) {
        md += " " + h + " |";
        sep += "---|";
      }
      md += "\n|" + sep + "\n";
      for (const auto& row : t.rows) {
        md += "|";
        for (const auto& c : row) md += " " + c + " |";
        md += "\n";
      }
      md += "\n";
    }
    for (const auto& p : s.plots) md += "![" + p + "](plots/" + p + ")\n\n";
  }
  return md;
}

std::string HtmlWriter::render(const std::string& title, const std::vector<Section>& sections) const {
  const auto& plots = plots_;
  std::string h = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
                  "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
                  "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
                  "text-align:right}th{background:#eee}td:first-child{text-align:left}</style></head><body>\n<h1>" +
                  html_escape(title) + "</h1>\n";
  for (const auto& s : sections) {
    h += "<h2>" + html_escape(s.title) + "</h2>\n";
    for (const auto& p : s.paragraphs) h += "<p>" + html_escape(p) + "</p>\n";
    for (const auto& t : s.tables) {
      h += "<table><tr>";
      for (const auto& c : t.header) h += "<th>" + html_escape(c) + "</th>";
      h += "</tr>\n";
      for (const auto& row : t.rows) {
        h += "<tr>";
        for (const auto& c : row) h += "<td>" + html_escape(c) + "</td>";
        h += "</tr>\n";
      }
      h += "</table>\n";
    }
    for (const auto& p : s.plots) {
      std::ifstream in(plots / p);
      std::ostringstream svg;
      svg << in.rdbuf();
      std::string text = svg.str();
      const auto start = text.find("<svg");  // inline: drop the XML prologue and doctype
      h += "<figure>" + (start == std::string::npos ? std::string() : text.substr(start)) + "</figure>\n";
    }
  }
  return h + "</body></html>\n";
}

}  // namespace cs::report
