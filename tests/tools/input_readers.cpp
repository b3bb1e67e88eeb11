// The readers of each input kind, as a run calls them.
#include "tests/tools/input_readers.hpp"

#include <span>
#include <stdexcept>

#include "base/text_file.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "energy/external_log_meter.hpp"
#include "io/journal.hpp"
#include "io/results_store.hpp"
#include "orchestrator/protocol.hpp"
#include "study/study_config.hpp"

namespace cs::tools {

const std::vector<std::string>& input_kinds() {
  static const std::vector<std::string> kinds{"study", "trace", "power-log", "results", "journal", "message"};
  return kinds;
}

void read_input(std::string_view kind, const std::string& path) {
  if (kind == "study") {
    study::load_study(path);  // with its traces, as `validate` reads it
  } else if (kind == "trace") {
    carbon::TraceCarbonSource(path, carbon::Interpolation::kLinear, carbon::Extrapolation::kError);
  } else if (kind == "power-log") {
    energy::parse_power_log(read_text_file(path, "power log"), "node1", path);
  } else if (kind == "results") {
    io::load_results(path);
  } else if (kind == "journal") {
    io::read_journal(path);
  } else if (kind == "message") {
    const auto text = read_text_file(path, "message");
    orchestrator::decode(std::as_bytes(std::span(text.data(), text.size())));
  } else {
    throw std::invalid_argument("unknown input kind " + std::string(kind));
  }
}

}  // namespace cs::tools
