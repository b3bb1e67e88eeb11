// The batch script: one MPI job (coordinator + workers), resumed automatically when its results
// exist, and stopped cleanly by SIGUSR1 before the time limit.
#include "slurm/sbatch.hpp"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/subprocess.hpp"

namespace cs::slurm {

namespace {
/// Single-quotes a word for the shell.
std::string quoted(const std::string& word) {
  std::string out;
  out.push_back('\'');
  for (char c : word) {
    if (c == '\'') {
      out.append("'\\''");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}
}  // namespace

std::string format_time_limit(double seconds) {
  const auto minutes = static_cast<long long>(std::ceil(std::max(seconds, 60.0) / 60.0));
  return fmt::format("{}-{:02}:{:02}:00", minutes / (24 * 60), (minutes / 60) % 24, minutes % 60);
}

namespace {

/// The job's task count (a coordinator plus every site's ranks); throws ConfigError when the
/// sites cannot size a job, or name partitions (a heterogeneous job) for a launcher that
/// cannot span them. Sets `heterogeneous`.
int job_tasks(const study::StudyConfig& config, bool& heterogeneous) {
  int ntasks = 1;
  heterogeneous = false;
  for (const auto& site : config.sites) {
    if (site.ranks < 1) {
      throw ConfigError(
          fmt::format("{}: site '{}': `carbonsweep submit` sizes the job from each site's `ranks`; "
                      "give ranks = N (hosts lists are for jobs you launch yourself)",
                      config.path, site.name));
    }
    ntasks += site.ranks;
    heterogeneous |= !site.partition.empty();
  }
  if (!heterogeneous) return ntasks;
  // Sites in their own partitions: a heterogeneous job, one component per site in [[sites]]
  // order, the coordinator first in the first one, so that MPI ranks fill the sites' `ranks`
  // in order, as site_map assigns them.
  for (const auto& site : config.sites) {
    if (site.partition.empty()) {
      throw ConfigError(
          fmt::format("{}: site '{}' has no partition; give every site one, or none", config.path, site.name));
    }
  }
  if (config.slurm.launcher != study::Launcher::kSrun) {
    throw ConfigError(
        fmt::format("{}: [slurm] launcher: mpirun cannot span the components of a heterogeneous "
                    "job (one per site partition); use launcher = \"srun\" (with launcher_args = "
                    "[\"--mpi=pmix\"] for Debian's Open MPI)",
                    config.path));
  }
  return ntasks;
}

/// The launcher's command line, before the carbonsweep command.
std::string launch_line(const study::StudyConfig& config, bool heterogeneous) {
  const auto& s = config.slurm;
  std::string launch = s.launcher == study::Launcher::kSrun ? "srun" : "mpirun -n \"$SLURM_NTASKS\"";
  if (heterogeneous) {
    std::string groups;
    for (std::size_t k = 0; k < config.sites.size(); ++k) groups += fmt::format("{}{}", k ? "," : "", k);
    launch += " --het-group=" + groups;
  }
  for (const auto& a : s.launcher_args) launch += fmt::format(" {}", quoted(a));
  return launch;
}

/// The #SBATCH lines: job-wide options, then one component per site (heterogeneous) or one.
std::string sbatch_header(const study::StudyConfig& config, const SubmitPlan& plan, bool heterogeneous) {
  const auto& s = config.slurm;
  std::string job_name = "carbonsweep-" + config.name;
  for (char& c : job_name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  std::string h = fmt::format("#!/bin/bash\n# Written by `carbonsweep submit` for {}\n",
                              std::filesystem::absolute(config.path).string());
  // Job-wide options (the first component carries them in a heterogeneous job).
  h += fmt::format("#SBATCH --job-name={}\n", job_name);
  h += fmt::format("#SBATCH --time={}\n", format_time_limit(s.time_limit_s));
  h += fmt::format("#SBATCH --output={}\n", plan.log_path);
  // The batch shell gets SIGUSR1 before the time limit and passes it on: carbonsweep stops
  // starting trials, keeps what finished, and exits 3; a requeued or resubmitted job resumes.
  h += fmt::format("#SBATCH --signal=B:USR1@{}\n", static_cast<long long>(s.signal_before_s));
  if (!s.account.empty()) h += fmt::format("#SBATCH --account={}\n", s.account);
  if (s.requeue) h += "#SBATCH --requeue\n";
  for (const auto& option : s.sbatch_options) h += fmt::format("#SBATCH {}\n", option);
  const auto component = [&](const std::string& partition, int ntasks) {
    std::string c = fmt::format("#SBATCH --ntasks={}\n#SBATCH --cpus-per-task={}\n", ntasks, s.cpus_per_task);
    if (!partition.empty()) c += fmt::format("#SBATCH --partition={}\n", partition);
    if (!s.mem_per_cpu.empty()) c += fmt::format("#SBATCH --mem-per-cpu={}\n", s.mem_per_cpu);
    return c;
  };
  if (heterogeneous) {
    for (std::size_t k = 0; k < config.sites.size(); ++k) {
      if (k > 0) h += "#SBATCH hetjob\n";
      h += component(config.sites[k].partition, config.sites[k].ranks + (k == 0 ? 1 : 0));
    }
  } else {
    h += component(s.partition, plan.ntasks);
  }
  return h;
}

/// The script's body: environment, resume on a requeue, and the signal relay to the launcher.
std::string script_body(const study::StudyConfig& config, const std::string& launch, const std::string& output,
                        const std::string& carbonsweep) {
  std::string b =
      "\nif [ \"$(id -u)\" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi\n";
  for (const auto& pair : config.slurm.environment) {
    const auto eq = pair.find('=');
    b += fmt::format("export {}={}\n", pair.substr(0, eq), quoted(pair.substr(eq + 1)));
  }
  b += fmt::format(
      "resume=\n"
      "if [ -e {out} ] || [ -e {out}.journal ]; then resume=--resume; fi  # a requeued or resubmitted job goes on\n"
      "{launch} {exe} run {study} -o {out} $resume &\n"
      "pid=$!\n"
      "# mpirun forwards USR1 and USR2 to every rank but aborts on TERM: USR2 means TERM to carbonsweep\n"
      "trap 'kill -USR1 \"$pid\" 2>/dev/null' USR1\n"
      "trap 'kill -USR2 \"$pid\" 2>/dev/null' TERM\n"
      "while true; do\n"
      "  wait \"$pid\"\n"
      "  status=$?\n"
      "  kill -0 \"$pid\" 2>/dev/null || exit \"$status\"  # still running: the wait was cut by a signal\n"
      "done\n",
      fmt::arg("out", quoted(output)), fmt::arg("launch", launch), fmt::arg("exe", quoted(carbonsweep)),
      fmt::arg("study", quoted(std::filesystem::absolute(config.path).string())));
  return b;
}

}  // namespace

SubmitPlan plan_submission(const study::StudyConfig& config, const std::string& carbonsweep) {
  SubmitPlan plan;
  bool heterogeneous = false;
  plan.ntasks = job_tasks(config, heterogeneous);
  const std::string output = std::filesystem::absolute(config.output).string();
  if (output.find_first_of(" \t\n'\"") != std::string::npos) {
    throw ConfigError(
        fmt::format("{}: #SBATCH --output cannot hold spaces or quotes; choose another output path", output));
  }
  plan.script_path = output + ".sbatch";
  plan.log_path = output + ".slurm-%j.log";
  plan.script = sbatch_header(config, plan, heterogeneous) +
                script_body(config, launch_line(config, heterogeneous), output, carbonsweep);
  return plan;
}

std::string submit(const SubmitPlan& plan) {
  {
    std::ofstream out(plan.script_path);
    out << plan.script;
    if (!out) throw IoError(fmt::format("{}: cannot write the batch script", plan.script_path));
  }
  const auto result = run_program({"sbatch", "--parsable", plan.script_path});
  if (!result) throw IoError("sbatch cannot be started: is Slurm installed and on PATH?");
  if (result->exit_code != 0)
    throw IoError(fmt::format("sbatch refused {} (exit {})", plan.script_path, result->exit_code));
  std::string id = result->out.substr(0, result->out.find_first_of(";\n"));
  if (id.empty()) throw IoError("sbatch printed no job id");
  return id;
}

}  // namespace cs::slurm
