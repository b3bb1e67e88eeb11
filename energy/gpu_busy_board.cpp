// The busy board: one file per process, replaced atomically, read whole at every sample.
#include "energy/gpu_busy_board.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::energy {

namespace fs = std::filesystem;

namespace {

bool process_exists(long pid) { return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

/// A board entry's name is "<pid>.<serial>" (several meters of one process each have their own).
long pid_of_entry(const std::string& name) {
  char* end = nullptr;
  const long pid = std::strtol(name.c_str(), &end, 10);
  return end != name.c_str() && *end == '.' ? pid : -1;
}

}  // namespace

GpuBusyBoard::GpuBusyBoard(std::string folder, std::function<double()> now_s)
    : folder_(std::move(folder)), now_s_(std::move(now_s)) {
  static std::atomic<int> serial{0};
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec || !fs::is_directory(folder_)) {
    throw MeterError(fmt::format("cannot create the GPU busy board {}: {}", folder_,
                                 ec ? ec.message() : std::string("not a folder")));
  }
  file_ = fmt::format("{}/{}.{}", folder_, getpid(), serial++);
  publish();
}

GpuBusyBoard::~GpuBusyBoard() {
  std::error_code ec;
  fs::remove(file_, ec);
}

void GpuBusyBoard::set_busy(bool busy) {
  const double now = now_s_();
  if (busy_since_s_) busy_s_ += now - *busy_since_s_;
  busy_since_s_.reset();
  if (busy) busy_since_s_ = now;
  publish();
}

void GpuBusyBoard::publish() const {
  const fs::path final_path(file_);
  const fs::path temp = final_path.parent_path() / fmt::format(".{}.tmp", final_path.filename().string());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << fmt::format("{:.17g} {:.17g}\n", busy_s_, busy_since_s_ ? *busy_since_s_ : -1.0);
    if (!out) throw MeterError(fmt::format("cannot write the GPU busy board entry {}", temp.string()));
  }
  std::error_code ec;
  fs::rename(temp, final_path, ec);
  if (ec) throw MeterError(fmt::format("cannot write the GPU busy board entry {}: {}", file_, ec.message()));
}

BusyTimes GpuBusyBoard::times() const {
  const double now = now_s_();
  BusyTimes t;
  t.own_s = busy_s_ + (busy_since_s_ ? now - *busy_since_s_ : 0.0);
  t.all_s = t.own_s;
  std::error_code ec;
  for (fs::directory_iterator it(folder_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->path().string() == file_ || !process_exists(pid_of_entry(name))) continue;
    std::ifstream in(it->path());
    double busy_s = 0.0, since_s = -1.0;
    if (!(in >> busy_s >> since_s) || !(busy_s >= 0.0)) continue;  // gone meanwhile, or not an entry
    t.all_s += busy_s + (since_s >= 0.0 && now > since_s ? now - since_s : 0.0);
  }
  return t;
}

std::string default_gpu_board_folder() {
  std::string base = "/tmp";
  if (fs::is_directory("/dev/shm") && access("/dev/shm", W_OK) == 0) {
    base = "/dev/shm";
  } else if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) {
    base = tmp;
  }
  return fmt::format("{}/carbonsweep-gpu-{}", base, getuid());
}

}  // namespace cs::energy
