// Apportioning node energy among co-located ranks by CPU time: the sum rule, and procfs parsing.
#include "energy/apportion.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "energy/proc_cpu.hpp"

namespace cs::energy {
namespace {

/// A node on a virtual clock: a power draw, and the CPU rates of two ranks and of everything else.
struct SimulatedNode {
  double t_s = 0.0, energy_j = 0.0, cpu_a_s = 0.0, cpu_b_s = 0.0, cpu_other_s = 0.0;
  void run(double seconds, double power_w, double a_cores, double b_cores, double other_cores) {
    t_s += seconds;
    energy_j += power_w * seconds;
    cpu_a_s += a_cores * seconds;
    cpu_b_s += b_cores * seconds;
    cpu_other_s += other_cores * seconds;
  }
  double busy_s() const { return cpu_a_s + cpu_b_s + cpu_other_s; }
};

class NodeCounter final : public EnergyMeter {
 public:
  explicit NodeCounter(const SimulatedNode& node) : node_(node) {}
  std::string name() const override { return "rapl"; }
  MeterKind kind() const override { return MeterKind::kHardware; }
  MeterScope scope() const override { return MeterScope::kNode; }
  std::string unavailable_reason() const override { return {}; }
  Joules read() override { return {node_.energy_j}; }

 private:
  const SimulatedNode& node_;
};

TEST(Apportion, CoLocatedRanksShareTheNodeByCpuTimeAndNeverExceedIt) {
  SimulatedNode node;
  ApportionedMeter a(std::make_unique<NodeCounter>(node), [&] { return BusyTimes{node.cpu_a_s, node.busy_s()}; });
  ApportionedMeter b(std::make_unique<NodeCounter>(node), [&] { return BusyTimes{node.cpu_b_s, node.busy_s()}; });
  a.read();
  b.read();
  double expect_a = 0.0, expect_b = 0.0;
  // 100 ms sampling; the load changes between intervals.
  for (int step = 0; step < 30; ++step) {
    const double a_cores = step < 10 ? 1.5 : (step < 20 ? 0.0 : 1.0);
    const double b_cores = step < 10 ? 0.5 : 2.0;
    const double other = step < 20 ? 0.0 : 1.0;  // a process that is not ours
    const double power_w = 50.0 + 40.0 * (a_cores + b_cores + other);
    node.run(0.1, power_w, a_cores, b_cores, other);
    const double busy = a_cores + b_cores + other;
    expect_a += power_w * 0.1 * a_cores / busy;
    expect_b += power_w * 0.1 * b_cores / busy;
    const double sum = a.read().value + b.read().value;
    EXPECT_LE(sum, node.energy_j + 1e-9) << "step " << step;
  }
  EXPECT_NEAR(a.read().value, expect_a, 1e-9);
  EXPECT_NEAR(b.read().value, expect_b, 1e-9);
  EXPECT_NEAR(a.node_energy().value, node.energy_j, 1e-9);
  // While the two ranks were alone on the node, their shares added up to all of it.
  EXPECT_LT(a.read().value + b.read().value, node.energy_j);
}

TEST(Apportion, ShareIsClampedAndZeroWithoutBusyTime) {
  EXPECT_DOUBLE_EQ(busy_share(0.5, 2.0), 0.25);
  EXPECT_DOUBLE_EQ(busy_share(3.0, 2.0), 1.0);  // tick granularity can put own > node
  EXPECT_DOUBLE_EQ(busy_share(0.0, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(busy_share(-1.0, 2.0), 0.0);
}

class FakeProcStat : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("cs-proc-" + std::to_string(getpid()));
    std::filesystem::create_directories(root_ / "self");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(root_ / name) << text; }
  std::filesystem::path root_;
};

TEST_F(FakeProcStat, ReadsProcessAndNodeCpuTime) {
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  write("self/stat", "42 (a (weird) name) R 1 2 3 4 5 6 7 8 9 10 300 100 0 0\n");
  write("stat", "cpu  1000 50 200 9000 30 5 5 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  EXPECT_DOUBLE_EQ(process_cpu_s(root_.string()), 400.0 / hz);
  EXPECT_DOUBLE_EQ(node_busy_cpu_s(root_.string()), 1270.0 / hz);
  const auto times = proc_cpu_times(root_.string())();
  EXPECT_DOUBLE_EQ(times.own_s, 400.0 / hz);
}

TEST_F(FakeProcStat, MalformedFilesAreMeterErrorsNamingThePath) {
  write("self/stat", "42 (x) R 1 2\n");
  write("stat", "intr 1 2 3\n");
  try {
    process_cpu_s(root_.string());
    FAIL();
  } catch (const MeterError& e) {
    EXPECT_NE(std::string(e.what()).find("self/stat"), std::string::npos);
  }
  EXPECT_THROW(node_busy_cpu_s(root_.string()), MeterError);
  std::filesystem::remove(root_ / "stat");
  ApportionedMeter meter(std::make_unique<NodeCounter>(SimulatedNode{}), proc_cpu_times(root_.string()));
  EXPECT_NE(meter.unavailable_reason().find("cannot apportion"), std::string::npos);
}

}  // namespace
}  // namespace cs::energy
