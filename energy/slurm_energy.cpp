// ConsumedEnergy through scontrol and sacct.
#include "energy/slurm_energy.hpp"

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

namespace cs::energy {

namespace {
std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}
}  // namespace

std::string parse_energy_plugin(const std::string& scontrol_config) {
  std::istringstream in(scontrol_config);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    if (trim(line.substr(0, eq)) == "AcctGatherEnergyType") return trim(line.substr(eq + 1));
  }
  return {};
}

std::optional<double> parse_consumed_energy(const std::string& sacct_output) {
  std::istringstream in(sacct_output);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty()) continue;
    char* end = nullptr;
    const double joules = std::strtod(line.c_str(), &end);
    if (end == line.c_str() || *end != '\0' || !(joules >= 0.0)) return std::nullopt;
    return joules;
  }
  return std::nullopt;
}

std::optional<ProgramOutput> run_slurm_query(const std::vector<std::string>& argv) {
  ProgramOptions options;
  options.time_limit = std::chrono::seconds(30);
  return run_program(argv, options);
}

SlurmStepEnergy read_slurm_step_energy(const ProgramRunner& run, const EnvLookup& env) {
  const auto lookup = [&](const char* name) -> std::optional<std::string> {
    if (env) return env(name);
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto job = lookup("SLURM_JOB_ID");
  if (!job) return {std::nullopt, "not running under Slurm (SLURM_JOB_ID is not set)"};
  const auto config = run({"scontrol", "show", "config"});
  if (!config || config->exit_code != 0) return {std::nullopt, "scontrol could not be run or failed"};
  const std::string plugin = parse_energy_plugin(config->out);
  if (plugin.empty() || plugin == "acct_gather_energy/none") {
    return {std::nullopt, fmt::format("Slurm energy accounting is not configured (AcctGatherEnergyType = {})",
                                      plugin.empty() ? "unset" : plugin)};
  }
  const std::string step = lookup("SLURM_STEP_ID") ? *job + "." + *lookup("SLURM_STEP_ID") : *job;
  const auto sacct = run({"sacct", "-j", step, "-n", "-P", "-o", "ConsumedEnergyRaw"});
  if (!sacct || sacct->exit_code != 0) return {std::nullopt, fmt::format("sacct failed for step {}", step)};
  const auto joules = parse_consumed_energy(sacct->out);
  if (!joules) {
    return {std::nullopt, fmt::format("sacct has no ConsumedEnergy for step {} yet ({} is configured)", step, plugin)};
  }
  return {Joules{*joules}, {}};
}

}  // namespace cs::energy
