// MpiTransport and MpiSession across real ranks (ctest runs this under mpiexec -n 1 and -n 3).
#include <gtest/gtest.h>

#include <memory>

#include "orchestrator/mpi_transport.hpp"

namespace cs::orchestrator {
namespace {

MpiSession* g_mpi = nullptr;

TEST(MpiTransport, EveryRankHearsItsLeftNeighbourInARing) {
  MpiTransport t(*g_mpi);
  const int size = g_mpi->size();
  const int right = (g_mpi->rank() + 1) % size;
  const int left = (g_mpi->rank() + size - 1) % size;
  search::TrialSpec spec{g_mpi->rank(), "ring", {{"lr", 0.5 * g_mpi->rank()}}};
  t.send(right, Assign{spec});
  const auto e = t.receive(std::chrono::seconds(30));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->source, left);
  const auto& got = std::get<Assign>(e->message).spec;
  EXPECT_EQ(got.id, left);
  EXPECT_DOUBLE_EQ(std::get<double>(got.params[0].value), 0.5 * left);
}

TEST(MpiTransport, ReceiveTimesOutWhenNothingCame) {
  MpiTransport t(*g_mpi);
  EXPECT_FALSE(t.receive(std::chrono::milliseconds(20)).has_value());
}

TEST(MpiSession, AgreesOnTheLowestFailingRank) {
  EXPECT_EQ(g_mpi->lowest_failing_rank(false), -1);
  const int last = g_mpi->size() - 1;
  EXPECT_EQ(g_mpi->lowest_failing_rank(g_mpi->rank() == last), last);
  EXPECT_EQ(g_mpi->lowest_failing_rank(true), 0);
}

TEST(MpiSession, CountsRanksOnTheNodeAndGathersHosts) {
  const auto all = g_mpi->count_on_node(true);
  EXPECT_EQ(all.count, g_mpi->size());  // all ranks share this machine
  EXPECT_EQ(all.index, g_mpi->rank());
  const auto workers = g_mpi->count_on_node(g_mpi->rank() != 0);
  EXPECT_EQ(workers.count, g_mpi->size() - 1);
  EXPECT_EQ(workers.index, std::max(g_mpi->rank() - 1, 0));
  const auto hosts = g_mpi->all_hosts();
  ASSERT_EQ(static_cast<int>(hosts.size()), g_mpi->size());
  EXPECT_FALSE(hosts[0].empty());
}

}  // namespace
}  // namespace cs::orchestrator

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto mpi = std::make_unique<cs::orchestrator::MpiSession>(&argc, &argv);
  cs::orchestrator::g_mpi = mpi.get();
  const int result = RUN_ALL_TESTS();
  return result;  // every rank returns its own result; mpiexec fails if any rank failed
}
