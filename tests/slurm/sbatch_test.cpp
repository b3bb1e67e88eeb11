// The batch script `carbonsweep submit` writes: sizing, options, resume, and what it refuses.
#include "slurm/sbatch.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace cs::slurm {
namespace {

study::StudyConfig study(const std::string& sites, const std::string& slurm = "") {
  return study::parse_study(
      "[study]\nname = \"my study\"\nbudget_trials = 4\noutput = \"/data/out.h5\"\n[search.space.x1]\ntype = "
      "\"float\"\nlow = 0.0\nhigh = 1.0\n[search.space.x2]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n[model]\n"
      "family = \"function\"\nfunction = \"branin\"\n" +
          slurm + sites,
      "/studies/s.toml");
}

const std::string kTwoSites =
    "[[sites]]\nname = \"a\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 2\n"
    "[[sites]]\nname = \"b\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 3\n";

TEST(Sbatch, SizesTheJobAndCarriesTheStudysSettings) {
  const auto plan = plan_submission(
      study(kTwoSites,
            "[slurm]\npartition = \"gpu\"\ntime = \"90min\"\naccount = \"p42\"\ncpus_per_task = 4\nmem_per_cpu = "
            "\"2G\"\nlauncher = \"srun\"\nlauncher_args = [\"--mpi=pmix\"]\nsignal_before = \"3min\"\nrequeue = true\n"
            "sbatch_options = [\"--qos=short\"]\n"),
      "/opt/bin/carbonsweep");
  EXPECT_EQ(plan.ntasks, 6);  // the coordinator + 2 + 3 workers
  EXPECT_EQ(plan.script_path, "/data/out.h5.sbatch");
  for (const char* line :
       {"#SBATCH --ntasks=6\n", "#SBATCH --cpus-per-task=4\n", "#SBATCH --time=0-01:30:00\n",
        "#SBATCH --partition=gpu\n", "#SBATCH --account=p42\n", "#SBATCH --mem-per-cpu=2G\n", "#SBATCH --requeue\n",
        "#SBATCH --qos=short\n", "#SBATCH --signal=B:USR1@180\n", "#SBATCH --job-name=carbonsweep-my_study\n",
        "#SBATCH --output=/data/out.h5.slurm-%j.log\n",
        "srun '--mpi=pmix' '/opt/bin/carbonsweep' run '/studies/s.toml' -o '/data/out.h5' $resume &\n",
        "if [ -e '/data/out.h5' ] || [ -e '/data/out.h5'.journal ]; then resume=--resume; fi"}) {
    EXPECT_NE(plan.script.find(line), std::string::npos) << line << "\nin\n" << plan.script;
  }
}

TEST(Sbatch, DefaultsAndTimeRounding) {
  const auto plan = plan_submission(study(kTwoSites), "/x/carbonsweep");
  EXPECT_NE(plan.script.find("mpirun -n \"$SLURM_NTASKS\" '/x/carbonsweep'"), std::string::npos);
  EXPECT_EQ(plan.script.find("--partition"), std::string::npos);
  EXPECT_EQ(format_time_limit(3600), "0-01:00:00");
  EXPECT_EQ(format_time_limit(61), "0-00:02:00");  // up to whole minutes
  EXPECT_EQ(format_time_limit(2 * 86400 + 3 * 3600), "2-03:00:00");
}

TEST(Sbatch, SitePartitionsMakeAHeterogeneousJobInSiteOrder) {
  const auto plan = plan_submission(
      study("[[sites]]\nname = \"a\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 2\npartition = \"pa\"\n"
            "[[sites]]\nname = \"b\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 3\npartition = \"pb\"\n",
            "[slurm]\nlauncher = \"srun\"\nlauncher_args = [\"--mpi=pmix\"]\nenvironment = "
            "[\"OMPI_MCA_btl=self,tcp\"]\n"),
      "/x/carbonsweep");
  // The coordinator goes with the first site: ranks 0-2 in pa, 3-5 in pb.
  EXPECT_NE(plan.script.find("#SBATCH --ntasks=3\n#SBATCH --cpus-per-task=1\n#SBATCH --partition=pa\n#SBATCH hetjob\n"
                             "#SBATCH --ntasks=3\n#SBATCH --cpus-per-task=1\n#SBATCH --partition=pb\n"),
            std::string::npos)
      << plan.script;
  EXPECT_NE(plan.script.find("srun --het-group=0,1 '--mpi=pmix' '/x/carbonsweep' run"), std::string::npos);
  EXPECT_NE(plan.script.find("export OMPI_MCA_btl='self,tcp'\n"), std::string::npos);
  EXPECT_EQ(plan.ntasks, 6);
}

TEST(Sbatch, AHeterogeneousJobNeedsEveryPartitionAndSrun) {
  const std::string two =
      "[[sites]]\nname = \"a\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 1\npartition = \"pa\"\n"
      "[[sites]]\nname = \"b\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 1\n";
  EXPECT_THROW(plan_submission(study(two, "[slurm]\nlauncher = \"srun\"\n"), "/x"), ConfigError);  // b has none
  const std::string both =
      "[[sites]]\nname = \"a\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 1\npartition = "
      "\"pa\"\n[[sites]]\nname = \"b\"\npue = 1.1\nintensity_g_per_kwh = 1\nranks = 1\n"
      "partition = \"pb\"\n";
  try {
    plan_submission(study(both), "/x");  // mpirun cannot span het components
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("use launcher = \"srun\""), std::string::npos) << e.what();
  }
}

TEST(Sbatch, RefusesWhatItCannotSize) {
  EXPECT_THROW(
      plan_submission(study("[[sites]]\nname = \"a\"\npue = 1.1\nintensity_g_per_kwh = 1\nhosts = [\"n1\"]\n"), "/x"),
      ConfigError);
}

TEST(Sbatch, BrokenSlurmSettingsNameTheirKey) {
  for (const auto& [slurm, key] : std::vector<std::pair<std::string, std::string>>{
           {"[slurm]\nlauncher = \"qsub\"\n", "launcher"},
           {"[slurm]\ntime = \"1h\"\nsignal_before = \"2h\"\n", "signal_before"},
           {"[slurm]\ncpus_per_task = 0\n", "cpus_per_task"},
           {"[slurm]\nsbatch_options = [\"qos=short\"]\n", "sbatch_options"},
           {"[slurm]\ntime = \"forever\"\n", "time"},
           {"[slurm]\npartitions = \"gpu\"\n", "partitions"},
           {"[slurm]\nenvironment = [\"NO VALUE\"]\n", "environment"}}) {
    try {
      study(kTwoSites, slurm);
      ADD_FAILURE() << slurm;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("key '" + key + "'"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace cs::slurm
