// A fake libnvidia-ml.so for the NVML meter's tests: the real entry points, with state the
// test sets through fake_nvml_configure / fake_nvml_set (found with dlsym on the same handle).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {
constexpr int kMaxGpus = 8;
struct FakeGpu {
  unsigned long long energy_mj = 0;
  unsigned power_mw = 0;
};
FakeGpu g_gpus[kMaxGpus];
struct ProcessSample {  // nvmlProcessUtilizationSample_t
  unsigned pid;
  unsigned long long time_stamp_us;
  unsigned sm_util, mem_util, enc_util, dec_util;
};
std::vector<ProcessSample> g_samples[kMaxGpus];
unsigned g_count = 2;
int g_energy_supported = 1;
int g_init_rc = 0;
int g_initialised = 0;
}  // namespace

extern "C" {

void fake_nvml_configure(unsigned count, int energy_supported, int init_rc) {
  g_count = count;
  g_energy_supported = energy_supported;
  g_init_rc = init_rc;
  for (auto& g : g_gpus) g = {};
  for (auto& s : g_samples) s.clear();
}
void fake_nvml_add_process_sample(unsigned gpu, unsigned pid, unsigned long long time_stamp_us, unsigned sm_util) {
  g_samples[gpu].push_back({pid, time_stamp_us, sm_util, 0, 0, 0});
}
void fake_nvml_set(unsigned gpu, unsigned long long energy_mj, unsigned power_mw) {
  g_gpus[gpu] = {energy_mj, power_mw};
}
int fake_nvml_initialised() { return g_initialised; }

int nvmlInit_v2() {
  if (g_init_rc == 0) ++g_initialised;
  return g_init_rc;
}
int nvmlShutdown() {
  --g_initialised;
  return 0;
}
int nvmlDeviceGetCount_v2(unsigned* count) {
  *count = g_count;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** device) {
  if (index >= g_count) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &g_gpus[index];
  return 0;
}
int nvmlDeviceGetHandleByUUID(const char* uuid, void** device) {
  for (unsigned i = 0; i < g_count; ++i) {
    if (std::string(uuid) == "GPU-fake-" + std::to_string(i)) {
      *device = &g_gpus[i];
      return 0;
    }
  }
  return 6;  // NVML_ERROR_NOT_FOUND
}
int nvmlDeviceGetName(void* device, char* name, unsigned length) {
  std::snprintf(name, length, "Fake GPU %ld", static_cast<FakeGpu*>(device) - g_gpus);
  return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(void* device, unsigned long long* energy_mj) {
  if (!g_energy_supported) return 3;  // NVML_ERROR_NOT_SUPPORTED
  *energy_mj = static_cast<FakeGpu*>(device)->energy_mj;
  return 0;
}
int nvmlDeviceGetPowerUsage(void* device, unsigned* power_mw) {
  *power_mw = static_cast<FakeGpu*>(device)->power_mw;
  return 0;
}
int nvmlDeviceGetUUID(void* device, char* uuid, unsigned length) {
  std::snprintf(uuid, length, "GPU-fake-%ld", static_cast<FakeGpu*>(device) - g_gpus);
  return 0;
}
int nvmlDeviceGetIndex(void* device, unsigned* index) {
  *index = static_cast<unsigned>(static_cast<FakeGpu*>(device) - g_gpus);
  return 0;
}
int nvmlSystemGetDriverVersion(char* version, unsigned length) {
  std::snprintf(version, length, "580.95.05");
  return 0;
}
int nvmlSystemGetCudaDriverVersion_v2(int* version) {
  *version = 13000;
  return 0;
}
// As the driver: the samples newer than last_seen; with no buffer, how many there are.
int nvmlDeviceGetProcessUtilization(void* device, ProcessSample* samples, unsigned* count,
                                    unsigned long long last_seen) {
  std::vector<ProcessSample> newer;
  for (const auto& s : g_samples[static_cast<FakeGpu*>(device) - g_gpus]) {
    if (s.time_stamp_us > last_seen) newer.push_back(s);
  }
  if (newer.empty()) return 6;  // NVML_ERROR_NOT_FOUND
  if (!samples || *count < newer.size()) {
    *count = static_cast<unsigned>(newer.size());
    return 7;  // NVML_ERROR_INSUFFICIENT_SIZE
  }
  std::memcpy(samples, newer.data(), newer.size() * sizeof(ProcessSample));
  *count = static_cast<unsigned>(newer.size());
  return 0;
}
const char* nvmlErrorString(int code) {
  switch (code) {
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 6: return "Not Found";
    case 9: return "Driver Not Loaded";
    default: return "Unknown Error";
  }
}
}
