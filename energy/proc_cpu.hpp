// CPU time from procfs: this process's, and the whole node's busy time, in seconds.
#pragma once

#include <string>

namespace cs::energy {

/// utime + stime of this process (all its threads), from PROC_ROOT/self/stat. Throws MeterError.
double process_cpu_s(const std::string& proc_root = "/proc");

/// Busy CPU time of the node summed over all CPUs (user, nice, system, irq, softirq, steal),
/// from the `cpu` line of PROC_ROOT/stat. Throws MeterError.
double node_busy_cpu_s(const std::string& proc_root = "/proc");

/// The whole text of a procfs or sysfs file; throws MeterError naming `who` and the path.
std::string read_proc_file(const std::string& path, const std::string& who);

}  // namespace cs::energy
