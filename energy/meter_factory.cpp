// Meter construction by name.
#include "energy/meter_factory.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "energy/apportion.hpp"
#include "energy/cpu_estimate_meter.hpp"
#include "energy/external_log_meter.hpp"
#include "energy/nvml_meter.hpp"
#include "energy/rapl_meter.hpp"

namespace cs::energy {

const std::vector<std::string>& known_meter_names() {
  static const std::vector<std::string> kNames{"estimate", "rapl", "nvml", "external"};
  return kNames;
}

MeterTraits meter_traits(const std::string& name) {
  if (name == "rapl" || name == "external") return {MeterKind::kHardware, MeterScope::kNode, "cpu_time"};
  if (name == "nvml") return {MeterKind::kHardware, MeterScope::kDevice, "gpu_utilisation"};
  return {MeterKind::kSoftware, MeterScope::kProcess, ""};
}

namespace {
std::unique_ptr<EnergyMeter> make_raw_meter(const std::string& name, const MeterOptions& options) {
  if (name == "estimate") {
    CpuEstimateOptions estimate;
    estimate.tdp_w = options.cpu_tdp_w;
    estimate.cores = options.cpu_cores;
    return std::make_unique<CpuEstimateMeter>(std::move(estimate));
  }
  if (name == "rapl") return std::make_unique<RaplMeter>();
  if (name == "nvml") {
    return std::make_unique<NvmlMeter>(gpu_selection_from_env(options.local_rank), options.nvml_library,
                                       std::function<double()>{},
                                       options.apportion_shared_meters ? default_gpu_board_folder() : std::string());
  }
  if (name == "external") {
    std::string host = options.external_host;
    if (host.empty()) {
      char buffer[256] = {};
      gethostname(buffer, sizeof buffer - 1);
      host = buffer;
    }
    return std::make_unique<ExternalLogMeter>(options.external_log, host);
  }
  throw ConfigError(fmt::format("unknown meter '{}'", name));
}
}  // namespace

std::unique_ptr<EnergyMeter> make_meter(const std::string& name, const MeterOptions& options) {
  auto meter = make_raw_meter(name, options);
  if (options.apportion_shared_meters && meter->scope() == MeterScope::kNode) {
    return std::make_unique<ApportionedMeter>(std::move(meter), proc_cpu_times());
  }
  return meter;
}

std::vector<std::unique_ptr<EnergyMeter>> make_meters(const std::vector<std::string>& names,
                                                      const MeterOptions& options) {
  std::vector<std::unique_ptr<EnergyMeter>> meters;
  for (const auto& name : names) {
    meters.push_back(make_meter(name, options));
    if (const auto why = meters.back()->unavailable_reason(); !why.empty()) {
      throw MeterError(fmt::format("meter '{}' cannot read on this node: {}", name, why));
    }
  }
  return meters;
}

}  // namespace cs::energy
