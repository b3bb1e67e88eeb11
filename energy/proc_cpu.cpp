// procfs parsing for CPU time; tick counts become seconds with the kernel's USER_HZ.
#include "energy/proc_cpu.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::energy {

namespace {
double ticks_to_s(double ticks) { return ticks / static_cast<double>(sysconf(_SC_CLK_TCK)); }
}  // namespace

std::string read_proc_file(const std::string& path, const std::string& who) {
  std::ifstream in(path);
  if (!in) throw MeterError(fmt::format("{}: cannot read {}", who, path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double process_cpu_s(const std::string& proc_root) {
  // Fields 14 and 15 of /proc/self/stat are utime and stime in clock ticks; the command
  // name in parentheses may hold spaces, so count from its closing parenthesis.
  const std::string path = proc_root + "/self/stat";
  const std::string stat = read_proc_file(path, "process CPU time");
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) {
    throw MeterError(fmt::format("process CPU time: unexpected format of {}", path));
  }
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  int i = 3;
  for (; i <= 15 && fields >> field; ++i) {
    try {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    } catch (const std::exception&) {
      throw MeterError(fmt::format("process CPU time: field {} of {} is not a number", i, path));
    }
  }
  if (i <= 15) throw MeterError(fmt::format("process CPU time: {} has fewer than 15 fields", path));
  return ticks_to_s(utime + stime);
}

double node_busy_cpu_s(const std::string& proc_root) {
  const std::string path = proc_root + "/stat";
  std::istringstream in(read_proc_file(path, "node CPU time"));
  std::string label;
  in >> label;
  if (label != "cpu") throw MeterError(fmt::format("node CPU time: {} does not start with the `cpu` line", path));
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  double v[8] = {};
  for (double& x : v) {
    if (!(in >> x)) throw MeterError(fmt::format("node CPU time: the `cpu` line of {} is malformed", path));
  }
  return ticks_to_s(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

}  // namespace cs::energy
