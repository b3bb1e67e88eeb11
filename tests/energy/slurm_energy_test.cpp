// Slurm ConsumedEnergy: parsing scontrol and sacct output, and every "not available" reason.
#include "energy/slurm_energy.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cs::energy {
namespace {

struct FakeSlurm {
  std::map<std::string, std::string> env;
  std::string config =
      "AccountingStorageType   = accounting_storage/slurmdbd\nAcctGatherEnergyType    = acct_gather_energy/rapl\n";
  std::string sacct = "123456\n";
  std::vector<std::vector<std::string>> calls;

  SlurmStepEnergy read() {
    return read_slurm_step_energy(
        [&](const std::vector<std::string>& argv) -> std::optional<ProgramOutput> {
          calls.push_back(argv);
          ProgramOutput out;
          out.exit_code = 0;
          out.out = argv.front() == "scontrol" ? config : sacct;
          return out;
        },
        [&](const char* name) -> std::optional<std::string> {
          const auto it = env.find(name);
          return it == env.end() ? std::nullopt : std::optional(it->second);
        });
  }
};

TEST(SlurmEnergy, ReadsTheStepsConsumedEnergy) {
  FakeSlurm slurm;
  slurm.env = {{"SLURM_JOB_ID", "77"}, {"SLURM_STEP_ID", "0"}};
  const auto e = slurm.read();
  ASSERT_TRUE(e.energy) << e.reason;
  EXPECT_DOUBLE_EQ(e.energy->value, 123456.0);
  EXPECT_EQ(slurm.calls.back(),
            (std::vector<std::string>{"sacct", "-j", "77.0", "-n", "-P", "-o", "ConsumedEnergyRaw"}));
}

TEST(SlurmEnergy, SaysWhyWhenThereIsNone) {
  FakeSlurm slurm;
  EXPECT_NE(slurm.read().reason.find("not running under Slurm"), std::string::npos);
  slurm.env = {{"SLURM_JOB_ID", "77"}};
  slurm.config = std::string("AcctGatherEnergyType    = acct_gather_energy/none\n");
  EXPECT_NE(slurm.read().reason.find("not configured"), std::string::npos);
  slurm.config = std::string("ClusterName = x\n");
  EXPECT_NE(slurm.read().reason.find("unset"), std::string::npos);
  slurm.config = std::string("AcctGatherEnergyType = acct_gather_energy/ipmi\n");
  slurm.sacct = std::string("\n");
  EXPECT_NE(slurm.read().reason.find("no ConsumedEnergy for step 77"), std::string::npos);
}

TEST(SlurmEnergy, ParsesOnlyNonNegativeNumbers) {
  EXPECT_EQ(parse_consumed_energy("  42\n"), 42.0);
  EXPECT_EQ(parse_consumed_energy(""), std::nullopt);
  EXPECT_EQ(parse_consumed_energy("n/a\n"), std::nullopt);
  EXPECT_EQ(parse_consumed_energy("-3\n"), std::nullopt);
  EXPECT_EQ(parse_energy_plugin("A=1\n AcctGatherEnergyType = acct_gather_energy/gpu \n"), "acct_gather_energy/gpu");
}

TEST(SlurmEnergy, ProgramsThatCannotStartAreReasonsNotErrors) {
  const auto e = read_slurm_step_energy([](const std::vector<std::string>&) { return std::nullopt; },
                                        [](const char*) { return std::optional<std::string>("5"); });
  EXPECT_FALSE(e.energy);
  EXPECT_NE(e.reason.find("scontrol"), std::string::npos);
}

}  // namespace
}  // namespace cs::energy
