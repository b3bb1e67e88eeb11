// `carbonsweep submit`: an sbatch script sized from the study, and its submission.
#pragma once

#include <string>

#include "study/study_config.hpp"

namespace cs::slurm {

struct SubmitPlan {
  std::string script;       ///< the batch script's text
  std::string script_path;  ///< where it is written: OUTPUT.sbatch
  std::string log_path;     ///< the job's output: OUTPUT.slurm-<job id>.log
  int ntasks = 0;           ///< 1 coordinator + the workers of every site
};

/// "D-HH:MM:SS" for sbatch --time, rounded up to whole minutes (Slurm's granularity).
std::string format_time_limit(double seconds);

/// Sizes the job from the sites' `ranks` (sites given by `hosts` cannot be sized: ConfigError)
/// and writes nothing. `carbonsweep` is the absolute path of the binary the job runs.
SubmitPlan plan_submission(const study::StudyConfig& config, const std::string& carbonsweep);

/// Writes the script and runs `sbatch --parsable` on it; returns the job id. Throws IoError
/// when sbatch cannot be started or refuses (its own message is on stderr).
std::string submit(const SubmitPlan& plan);

}  // namespace cs::slurm
