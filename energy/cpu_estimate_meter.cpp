// CPU/RAM estimate from /proc, with a small table of published TDPs.
#include "energy/cpu_estimate_meter.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "energy/proc_cpu.hpp"

namespace cs::energy {

namespace {

struct TdpEntry {
  const char* model_substring;
  double tdp_w;
  int cores;
};

// Manufacturer specifications (Intel ARK, AMD product pages); see docs/energy.md.
constexpr std::array kTdpTable{
    TdpEntry{"Xeon(R) Platinum 8480+", 350, 56},
    TdpEntry{"Xeon(R) Platinum 8380", 270, 40},
    TdpEntry{"Xeon(R) Gold 6248", 150, 20},
    TdpEntry{"Xeon(R) Gold 6148", 150, 20},
    TdpEntry{"Xeon(R) CPU E5-2680 v4", 120, 14},
    TdpEntry{"EPYC 9654", 360, 96},
    TdpEntry{"EPYC 7763", 280, 64},
    TdpEntry{"EPYC 7742", 225, 64},
    TdpEntry{"Core(TM) i7-8700", 65, 6},
};

std::string read_file(const std::string& path) { return read_proc_file(path, "estimate meter"); }

double steady_now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<CpuPower> lookup_cpu_power(const std::string& model_name) {
  for (const auto& e : kTdpTable) {
    if (model_name.find(e.model_substring) != std::string::npos) {
      return CpuPower{model_name, e.tdp_w, e.cores, "table"};
    }
  }
  return std::nullopt;
}

CpuPower detect_cpu_power(const std::string& proc_root) {
  std::istringstream in(read_file(proc_root + "/cpuinfo"));
  std::string line, model;
  std::set<std::string> cores;  // (physical id, core id) pairs
  std::string physical_id;
  int logical = 0;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "processor") ++logical;
    if (key == "model name" && model.empty()) model = value;
    if (key == "physical id") physical_id = value;
    if (key == "core id") cores.insert(physical_id + "/" + value);
  }
  const int n = cores.empty() ? std::max(logical, 1) : static_cast<int>(cores.size());
  if (auto hit = lookup_cpu_power(model)) return *hit;
  return CpuPower{model.empty() ? "unknown" : model, kFallbackWattsPerCore * n, n, "fallback"};
}

CpuEstimateMeter::CpuEstimateMeter(CpuEstimateOptions options) : options_(std::move(options)) {
  if (!options_.now_s) options_.now_s = steady_now_s;
  cpu_ = detect_cpu_power(options_.proc_root);
  if (options_.cores) cpu_.cores = *options_.cores;
  if (options_.tdp_w) {
    cpu_.tdp_w = *options_.tdp_w;
    cpu_.source = "override";
  } else if (options_.cores && cpu_.source == "fallback") {
    cpu_.tdp_w = kFallbackWattsPerCore * cpu_.cores;
  }
}

std::string CpuEstimateMeter::unavailable_reason() const {
  try {
    (void)process_cpu_s();
    return {};
  } catch (const MeterError& e) {
    return e.what();
  }
}

double CpuEstimateMeter::process_cpu_s() const { return energy::process_cpu_s(options_.proc_root); }

double CpuEstimateMeter::resident_gib() const {
  std::istringstream statm(read_file(options_.proc_root + "/self/statm"));
  double size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0 * 1024.0);
}

Joules CpuEstimateMeter::read() {
  const double now = options_.now_s();
  const double ram_w = resident_gib() * options_.ram_w_per_gib;
  if (last_now_s_ >= 0.0) ram_j_ += ram_w * (now - last_now_s_);
  last_now_s_ = now;
  return {process_cpu_s() * cpu_.watts_per_core() + ram_j_};
}

}  // namespace cs::energy
