// NVML through dlopen: the handful of entry points the meter needs, resolved at run time.
#include "energy/nvml_meter.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"

namespace cs::energy {

namespace {

using NvmlReturn = int;  // nvmlReturn_t: 0 is NVML_SUCCESS
using NvmlDevice = void*;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr NvmlReturn kNvmlNotSupported = 3;
constexpr NvmlReturn kNvmlInsufficientSize = 7;
/// The most per-process samples read at once (NVML keeps a short ring buffer per GPU).
constexpr unsigned kMaxProcessSamples = 4096;

/// nvmlProcessUtilizationSample_t.
struct ProcessSample {
  unsigned pid;
  unsigned long long time_stamp_us;
  unsigned sm_util, mem_util, enc_util, dec_util;
};

double steady_now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool is_index(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

}  // namespace

struct NvmlMeter::Api {
  void* library = nullptr;
  bool initialised = false;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  NvmlReturn (*count)(unsigned*) = nullptr;
  NvmlReturn (*by_index)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*by_uuid)(const char*, NvmlDevice*) = nullptr;
  NvmlReturn (*name)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*total_energy_mj)(NvmlDevice, unsigned long long*) = nullptr;
  NvmlReturn (*power_mw)(NvmlDevice, unsigned*) = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  // Optional: what the GPU and driver are, for the results' provenance.
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*index)(NvmlDevice, unsigned*) = nullptr;
  NvmlReturn (*driver_version)(char*, unsigned) = nullptr;
  NvmlReturn (*cuda_version)(int*) = nullptr;
  // Optional: each process's SM utilisation, to share a GPU by what each process ran on it.
  NvmlReturn (*process_utilization)(NvmlDevice, ProcessSample*, unsigned*, unsigned long long) = nullptr;

  ~Api() {
    if (initialised && shutdown) shutdown();
    if (library) dlclose(library);
  }

  template <typename Fn>
  bool resolve(Fn& fn, const char* symbol) {
    fn = reinterpret_cast<Fn>(dlsym(library, symbol));
    return fn != nullptr;
  }

  std::string error(NvmlReturn code) const {
    return error_string ? fmt::format("{} (NVML error {})", error_string(code), code)
                        : fmt::format("NVML error {}", code);
  }
};

std::vector<std::string> parse_visible_devices(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = value.find(',', start);
    std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!is_index(item) && !item.starts_with("GPU-") && !item.starts_with("MIG-")) break;
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

GpuSelection gpu_selection_from_env(int local_rank) {
  GpuSelection s;
  s.local_rank = local_rank;
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) s.cuda_visible_devices = v;
  return s;
}

NvmlMeter::NvmlMeter(GpuSelection selection, std::string library, std::function<double()> now_s,
                     std::string board_folder)
    : api_(std::make_unique<Api>()), now_s_(now_s ? std::move(now_s) : steady_now_s), pid_(getpid()) {
  Api& api = *api_;
  api.library = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!api.library) {
    const char* why = dlerror();
    reason_ =
        fmt::format("no NVML: cannot open {} ({}); is the NVIDIA driver installed?", library, why ? why : "unknown");
    return;
  }
  if (!api.resolve(api.init, "nvmlInit_v2") || !api.resolve(api.shutdown, "nvmlShutdown") ||
      !api.resolve(api.count, "nvmlDeviceGetCount_v2") || !api.resolve(api.by_index, "nvmlDeviceGetHandleByIndex_v2") ||
      !api.resolve(api.by_uuid, "nvmlDeviceGetHandleByUUID") || !api.resolve(api.name, "nvmlDeviceGetName") ||
      !api.resolve(api.total_energy_mj, "nvmlDeviceGetTotalEnergyConsumption") ||
      !api.resolve(api.power_mw, "nvmlDeviceGetPowerUsage") || !api.resolve(api.error_string, "nvmlErrorString")) {
    reason_ = fmt::format("{} lacks an NVML entry point the meter needs (driver too old?)", library);
    return;
  }
  if (const NvmlReturn rc = api.init(); rc != kNvmlSuccess) {
    reason_ = fmt::format("nvmlInit failed: {}", api.error(rc));
    return;
  }
  api.initialised = true;
  api.resolve(api.uuid, "nvmlDeviceGetUUID");
  api.resolve(api.index, "nvmlDeviceGetIndex");
  std::vector<std::string> driver_parts;
  char version[96] = {};
  if (api.resolve(api.driver_version, "nvmlSystemGetDriverVersion") &&
      api.driver_version(version, sizeof version) == kNvmlSuccess) {
    driver_parts.push_back(fmt::format("driver {}", version));
  }
  int cuda = 0;
  if (api.resolve(api.cuda_version, "nvmlSystemGetCudaDriverVersion_v2") && api.cuda_version(&cuda) == kNvmlSuccess) {
    driver_parts.push_back(fmt::format("CUDA {}.{}", cuda / 1000, cuda % 1000 / 10));
  }
  driver_ = fmt::format("{}", fmt::join(driver_parts, ", "));
  unsigned count = 0;
  if (const NvmlReturn rc = api.count(&count); rc != kNvmlSuccess) {
    reason_ = fmt::format("cannot count GPUs: {}", api.error(rc));
    return;
  }
  std::vector<std::string> ids;
  if (selection.cuda_visible_devices) {
    ids = parse_visible_devices(*selection.cuda_visible_devices);
    if (ids.empty()) {
      reason_ = fmt::format("CUDA_VISIBLE_DEVICES='{}' gives this rank no GPU", *selection.cuda_visible_devices);
      return;
    }
  } else if (count == 0) {
    reason_ = "NVML sees no GPU on this node";
    return;
  } else {
    ids.push_back(std::to_string(static_cast<unsigned>(selection.local_rank) % count));
  }
  for (const auto& id : ids) {
    if (id.starts_with("MIG-")) {
      reason_ = fmt::format("GPU {} is a MIG instance; NVML reports energy only for the whole GPU", id);
      return;
    }
    NvmlDevice device = nullptr;
    const NvmlReturn rc =
        is_index(id) ? api.by_index(static_cast<unsigned>(std::stoul(id)), &device) : api.by_uuid(id.c_str(), &device);
    if (rc != kNvmlSuccess) {
      reason_ = fmt::format("GPU {} from CUDA_VISIBLE_DEVICES: {}", id, api.error(rc));
      return;
    }
    Gpu gpu;
    gpu.id = id;
    char name[96] = {};
    if (api.name(device, name, sizeof name) == kNvmlSuccess) gpu.name = name;
    char uuid[96] = {};
    if (api.uuid && api.uuid(device, uuid, sizeof uuid) == kNvmlSuccess) gpu.uuid = uuid;
    unsigned index = 0;
    if (api.index && api.index(device, &index) == kNvmlSuccess) gpu.index = static_cast<int>(index);
    unsigned long long mj = 0;
    const NvmlReturn energy_rc = api.total_energy_mj(device, &mj);
    if (energy_rc == kNvmlSuccess) {
      gpu.has_energy_counter = true;
      gpu.origin_j = static_cast<double>(mj) * 1e-3;
      unsigned mw = 0;
      if (api.power_mw(device, &mw) == kNvmlSuccess) gpu.last_power_w = mw * 1e-3;
      gpu.last_s = now_s_();
    } else if (energy_rc != kNvmlNotSupported) {
      reason_ = fmt::format("GPU {}: reading the energy counter: {}", id, api.error(energy_rc));
      return;
    } else {
      unsigned mw = 0;
      if (const NvmlReturn prc = api.power_mw(device, &mw); prc != kNvmlSuccess) {
        reason_ = fmt::format("GPU {} has neither an energy counter nor a power reading: {}", id, api.error(prc));
        return;
      }
      gpu.last_power_w = mw * 1e-3;
      gpu.last_s = now_s_();
    }
    gpus_.push_back(std::move(gpu));
    handles_.push_back(device);
  }
  if (board_folder.empty()) return;
  api.resolve(api.process_utilization, "nvmlDeviceGetProcessUtilization");
  for (std::size_t i = 0; i < gpus_.size(); ++i) utilisation_share(i);  // skip what NVML sampled before
  try {
    for (auto& gpu : gpus_) {
      const std::string key = gpu.uuid.empty() ? "gpu-" + gpu.id : gpu.uuid;
      boards_.push_back(std::make_unique<GpuBusyBoard>(board_folder + "/" + key, now_s_));
      gpu.last_busy = boards_.back()->times();
    }
  } catch (const MeterError& e) {
    reason_ = fmt::format("cannot share the GPU among its ranks: {}", e.what());
  }
}

NvmlMeter::~NvmlMeter() = default;

double NvmlMeter::device_energy_j(std::size_t i) {
  Gpu& gpu = gpus_[i];
  unsigned long long mj = 0;
  if (gpu.has_energy_counter) {
    if (const NvmlReturn rc = api_->total_energy_mj(handles_[i], &mj); rc != kNvmlSuccess) {
      throw MeterError(fmt::format("nvml meter: GPU {}: reading the energy counter: {}", gpu.id, api_->error(rc)));
    }
  }
  unsigned mw = 0;
  const NvmlReturn power_rc = api_->power_mw(handles_[i], &mw);
  if (power_rc != kNvmlSuccess && !gpu.has_energy_counter) {
    throw MeterError(fmt::format("nvml meter: GPU {}: reading power: {}", gpu.id, api_->error(power_rc)));
  }
  const double now = now_s_();
  const double power_w = power_rc == kNvmlSuccess ? mw * 1e-3 : 0.0;
  const double polled_j = 0.5 * (power_w + gpu.last_power_w) * (now - gpu.last_s);
  gpu.polled_j += polled_j;
  gpu.last_power_w = power_w;
  gpu.last_s = now;
  if (!gpu.has_energy_counter) {
    gpu.integrated_j += polled_j;
    return gpu.integrated_j;
  }
  const double counter_j = static_cast<double>(mj) * 1e-3 - gpu.origin_j;
  if (counter_j != gpu.counter_j) {
    gpu.counter_j = counter_j;
    gpu.integrated_j = 0.0;
  } else {
    gpu.integrated_j += polled_j;
  }
  gpu.reported_j = std::max(gpu.reported_j, gpu.counter_j + gpu.integrated_j);
  return gpu.reported_j;
}

Joules NvmlMeter::read() {
  if (!reason_.empty()) throw MeterError("nvml meter: " + reason_);
  double total_j = 0.0;
  for (std::size_t i = 0; i < gpus_.size(); ++i) {
    const double device_j = device_energy_j(i);
    if (boards_.empty()) {
      total_j += device_j;
      continue;
    }
    Gpu& gpu = gpus_[i];
    const BusyTimes busy = boards_[i]->times();
    const double delta_j = device_j - gpu.last_device_j;
    if (const auto share = utilisation_share(i)) {
      gpu.shared_j += delta_j * *share;
      gpu.by_utilisation_j += delta_j * *share;
    } else {
      gpu.shared_j += delta_j * busy_share(busy.own_s - gpu.last_busy.own_s, busy.all_s - gpu.last_busy.all_s);
    }
    gpu.last_device_j = device_j;
    gpu.last_busy = busy;
    total_j += gpu.shared_j;
  }
  return {total_j};
}

std::optional<double> NvmlMeter::utilisation_share(std::size_t i) {
  if (!api_->process_utilization) return std::nullopt;
  Gpu& gpu = gpus_[i];
  unsigned n = 0;
  NvmlReturn rc = api_->process_utilization(handles_[i], nullptr, &n, gpu.last_sample_us);
  if ((rc != kNvmlSuccess && rc != kNvmlInsufficientSize) || n == 0) return std::nullopt;
  std::vector<ProcessSample> samples(std::min(n + 16, kMaxProcessSamples));  // room for samples taken meanwhile
  n = static_cast<unsigned>(samples.size());
  rc = api_->process_utilization(handles_[i], samples.data(), &n, gpu.last_sample_us);
  if (rc != kNvmlSuccess) return std::nullopt;
  double own = 0.0, all = 0.0;
  for (const auto& sample : std::span(samples).first(std::min<std::size_t>(n, samples.size()))) {
    gpu.last_sample_us = std::max(gpu.last_sample_us, sample.time_stamp_us);
    all += sample.sm_util;
    if (sample.pid == static_cast<unsigned>(pid_)) {
      own += sample.sm_util;
      gpu.utilisation_lists_self = true;
    }
  }
  if (!gpu.utilisation_lists_self || !(all > 0.0)) return std::nullopt;
  return own / all;
}

void NvmlMeter::set_busy(bool busy) {
  for (auto& board : boards_) board->set_busy(busy);
}

std::optional<CounterCheck> NvmlMeter::counter_check() const {
  if (!reason_.empty() || gpus_.empty()) return std::nullopt;
  CounterCheck check;
  for (const auto& gpu : gpus_) {
    check.energy_j += gpu.has_energy_counter ? gpu.reported_j : gpu.integrated_j;
    check.counter_j += gpu.counter_j;
    check.polled_j += gpu.polled_j;
    check.has_counter = check.has_counter && gpu.has_energy_counter;
  }
  return check;
}

std::string NvmlMeter::describe_gpus() const {
  std::vector<std::string> parts;
  for (const auto& gpu : gpus_) {
    parts.push_back(fmt::format("{} {} {}", gpu.index >= 0 ? std::to_string(gpu.index) : gpu.id,
                                gpu.uuid.empty() ? "-" : gpu.uuid, gpu.name));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace cs::energy
