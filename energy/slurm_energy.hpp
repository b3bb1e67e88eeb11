// Slurm's own energy accounting: ConsumedEnergy of the current job step, where Slurm has it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/subprocess.hpp"
#include "base/units.hpp"

namespace cs::energy {

struct SlurmStepEnergy {
  std::optional<Joules> energy;  ///< ConsumedEnergyRaw of the step, all its nodes
  std::string reason;            ///< why there is none; empty when `energy` is set
};

/// The value of AcctGatherEnergyType in `scontrol show config` output; empty when absent.
std::string parse_energy_plugin(const std::string& scontrol_config);

/// The joules in `sacct -n -P -o ConsumedEnergyRaw` output: nullopt when empty or not a number.
std::optional<double> parse_consumed_energy(const std::string& sacct_output);

using ProgramRunner = std::function<std::optional<ProgramOutput>(const std::vector<std::string>&)>;
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

/// scontrol or sacct, for at most 30 s (a hung slurmctld must not hang the end of a run).
std::optional<ProgramOutput> run_slurm_query(const std::vector<std::string>& argv);

/// Asks Slurm for the energy of this job step (SLURM_JOB_ID, SLURM_STEP_ID). Never throws:
/// without Slurm, without energy accounting, or before Slurm has a value, it says why.
/// The defaults run the real scontrol and sacct and read the process environment.
SlurmStepEnergy read_slurm_step_energy(const ProgramRunner& run = run_slurm_query, const EnvLookup& env = {});

}  // namespace cs::energy
