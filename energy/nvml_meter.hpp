// NVIDIA GPU energy through NVML, opened with dlopen so that nothing links against the driver.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "energy/gpu_busy_board.hpp"
#include "energy/meter.hpp"

namespace cs::energy {

/// Which GPUs a rank owns. CUDA_VISIBLE_DEVICES when set (indices or GPU-/MIG- UUIDs; empty
/// means none); otherwise the GPU whose index is local_rank mod count, the one-GPU-per-rank
/// binding of a launcher.
struct GpuSelection {
  std::optional<std::string> cuda_visible_devices;
  int local_rank = 0;
};

/// Reads CUDA_VISIBLE_DEVICES from the environment.
GpuSelection gpu_selection_from_env(int local_rank);

/// Splits a CUDA_VISIBLE_DEVICES value. CUDA stops at the first invalid entry; so does this.
std::vector<std::string> parse_visible_devices(const std::string& value);

class NvmlMeter final : public EnergyMeter {
 public:
  /// Opens `library` (the driver's libnvidia-ml.so.1; a fake in tests). Never throws: a
  /// problem is reported by unavailable_reason(). `now_s` is a monotonic clock for power
  /// polling and busy time, shared by the node's processes (steady_clock when empty). With a
  /// `board_folder`, each GPU's energy is shared among the processes using it: by NVML's
  /// per-process SM utilisation where the driver samples it and has listed this process, else
  /// by busy time (a GpuBusyBoard in `board_folder`/<GPU UUID>); without one, read() is the
  /// whole GPU's.
  explicit NvmlMeter(GpuSelection selection, std::string library = "libnvidia-ml.so.1",
                     std::function<double()> now_s = {}, std::string board_folder = {});
  ~NvmlMeter() override;
  NvmlMeter(const NvmlMeter&) = delete;
  NvmlMeter& operator=(const NvmlMeter&) = delete;

  std::string name() const override { return "nvml"; }
  MeterKind kind() const override { return MeterKind::kHardware; }
  MeterScope scope() const override { return MeterScope::kDevice; }
  std::string unavailable_reason() const override { return reason_; }
  /// Energy of the rank's GPUs since construction: the total-energy counter (mJ) where the
  /// GPU has one, else power polled at each read and integrated (trapezoids). The counter
  /// refreshes only every 20-100 ms, so while it has not moved since the last change the power
  /// polled at each read is integrated on top of it (as Zeus does), never decreasing: a trial
  /// shorter than the refresh period gets its polled energy, not 0 J. Shared GPUs: this
  /// process's share of each interval's energy (see the constructor). Throws MeterError.
  Joules read() override;
  void session_started() override { set_busy(true); }
  void session_stopped() override { set_busy(false); }
  std::optional<CounterCheck> counter_check() const override;

  /// "<index> <UUID> <name>" per GPU, "; "-separated.
  std::string describe_gpus() const;
  /// "driver <version>, CUDA <major>.<minor>" as NVML reports them (parts it lacks are left out).
  const std::string& driver() const { return driver_; }
  bool shared() const { return !boards_.empty(); }

  struct Gpu {
    std::string id;    ///< as selected: index or UUID
    std::string name;  ///< the device name NVML reports
    std::string uuid;  ///< "GPU-..." (empty where the driver does not say)
    int index = -1;    ///< NVML's index of the GPU on the node
    bool has_energy_counter = false;
    double origin_j = 0.0;      ///< counter reading at construction
    double counter_j = 0.0;     ///< counter GPUs: the counter since construction at its last change
    double reported_j = 0.0;    ///< counter GPUs: the last value read() gave (it never decreases)
    double integrated_j = 0.0;  ///< power-polling GPUs; counter GPUs: since the counter's last change
    double last_power_w = 0.0;
    double last_s = 0.0;
    double polled_j = 0.0;  ///< polled power integrated since construction, for the cross-check
    double shared_j = 0.0;  ///< shared GPUs: this process's part of the GPU's energy
    double last_device_j = 0.0;
    BusyTimes last_busy;
    double by_utilisation_j = 0.0;          ///< of shared_j, what NVML's per-process utilisation apportioned
    unsigned long long last_sample_us = 0;  ///< the newest per-process sample read (NVML's timestamp)
    bool utilisation_lists_self = false;    ///< NVML's samples have named this process's PID
  };
  const std::vector<Gpu>& gpus() const { return gpus_; }

 private:
  struct Api;
  std::unique_ptr<Api> api_;
  std::vector<Gpu> gpus_;
  void set_busy(bool busy);
  /// This process's part of the GPU's SM utilisation in the per-process samples NVML took since
  /// the last call. nullopt (busy time decides) when the driver gives none, when they show no
  /// activity, or while NVML has never listed this process: inside a container NVML may know it
  /// by another PID, and absent from every sample it would be charged nothing.
  std::optional<double> utilisation_share(std::size_t i);
  /// The GPU's own energy since construction: its counter (with polled power on top while it
  /// stands still) or integrated polled power.
  double device_energy_j(std::size_t i);

  std::vector<void*> handles_;
  std::vector<std::unique_ptr<GpuBusyBoard>> boards_;  ///< per GPU; empty when not shared
  std::function<double()> now_s_;
  int pid_;
  std::string driver_;
  std::string reason_;
};

}  // namespace cs::energy
