// The sampling loop, and the power series it derives from cumulative energy readings.
#include "energy/meter_session.hpp"

#include <time.h>

#include <condition_variable>

#include "base/error.hpp"

namespace cs::energy {

namespace {
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

MeterSession::MeterSession(std::vector<EnergyMeter*> meters, std::chrono::milliseconds interval)
    : meters_(std::move(meters)), interval_(interval) {
  if (interval_.count() <= 0) throw ConfigError("energy.interval must be positive");
}

MeterSession::~MeterSession() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (running_) {
    for (auto* m : meters_) m->session_stopped();
  }
}

double MeterSession::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void MeterSession::start() {
  start_ = std::chrono::steady_clock::now();
  first_.clear();
  running_ = true;
  for (auto* m : meters_) m->session_started();
  for (auto* m : meters_) first_.push_back(m->read());
  first_checks_.clear();
  for (auto* m : meters_) first_checks_.push_back(m->counter_check());
  last_ = first_;
  last_t_s_.assign(meters_.size(), 0.0);
  samples_.clear();
  thread_ = std::jthread([this](std::stop_token stop) {
    const double cpu0 = thread_cpu_s();
    std::mutex wait_mutex;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(wait_mutex);
        wake.wait_for(lock, stop, interval_, [] { return false; });
      }
      if (stop.stop_requested()) break;
      sample_once();
    }
    std::lock_guard lock(mutex_);
    sampler_cpu_s_ = thread_cpu_s() - cpu0;
  });
}

void MeterSession::sample_once() {
  std::lock_guard lock(mutex_);
  const double t = elapsed_s();
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    const Joules now = meters_[i]->read();
    const double dt = t - last_t_s_[i];
    if (dt > 0.0) samples_.push_back({t, i, (now - last_[i]).value / dt});
    last_[i] = now;
    last_t_s_[i] = t;
  }
}

std::vector<Joules> MeterSession::energy_so_far() {
  std::lock_guard lock(mutex_);
  std::vector<Joules> out;
  for (std::size_t i = 0; i < meters_.size(); ++i) out.push_back(meters_[i]->read() - first_[i]);
  return out;
}

SessionReport MeterSession::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  sample_once();
  if (running_) {
    for (auto* m : meters_) m->session_stopped();
    running_ = false;
  }
  SessionReport report;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    report.energy.push_back({meters_[i]->name(), meters_[i]->kind(), last_[i] - first_[i]});
    auto check = meters_[i]->counter_check();
    if (check && first_checks_[i]) {
      check->energy_j -= first_checks_[i]->energy_j;
      check->counter_j -= first_checks_[i]->counter_j;
      check->polled_j -= first_checks_[i]->polled_j;
    }
    report.counter_checks.push_back(check);
  }
  report.samples = std::move(samples_);
  report.duration_s = elapsed_s();
  report.sampler_cpu_s = sampler_cpu_s_;
  return report;
}

}  // namespace cs::energy
