// Worker ranks to sites: by host, by count, then round-robin.
#include "orchestrator/site_map.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace cs::orchestrator {
namespace {

study::SiteConfig site(const std::string& name, int ranks, std::vector<std::string> hosts = {}) {
  study::SiteConfig s;
  s.name = name;
  s.ranks = ranks;
  s.hosts = std::move(hosts);
  return s;
}

TEST(SiteMap, CountsFillSitesInOrder) {
  const auto m = assign_sites({site("a", 1), site("b", 2), site("c", 1)}, {"h", "h", "h", "h"});
  EXPECT_EQ(m, (std::vector<std::size_t>{0, 1, 1, 2}));
}

TEST(SiteMap, HostsWinOverCounts) {
  const auto m = assign_sites({site("a", 2), site("b", 0, {"gpu7"})}, {"n1", "gpu7", "n2"});
  EXPECT_EQ(m, (std::vector<std::size_t>{0, 1, 0}));
}

TEST(SiteMap, SurplusWorkersAreSpreadRoundRobin) {
  const auto m = assign_sites({site("a", 1), site("b", 0)}, {"h", "h", "h", "h"});
  EXPECT_EQ(m, (std::vector<std::size_t>{0, 0, 1, 0}));
}

TEST(SiteMap, FewerWorkersThanCountsLeavesLaterSitesEmpty) {
  const auto m = assign_sites({site("a", 1), site("b", 1), site("c", 1)}, {"h", "h"});
  EXPECT_EQ(m, (std::vector<std::size_t>{0, 1}));
}

TEST(SiteMap, SitesLeftWithoutAWorkerAreNamed) {
  const std::vector<study::SiteConfig> sites{site("a", 0), site("b", 0), site("c", 0)};
  EXPECT_EQ(sites_without_workers(sites, assign_sites(sites, {"h", "h"})), std::vector<std::string>{"c"});
  EXPECT_TRUE(sites_without_workers(sites, assign_sites(sites, {"h", "h", "h"})).empty());
}

TEST(SiteMap, AJobOfSeveralRanksMustHoldTheSitesRanksAndHosts) {
  EXPECT_NO_THROW(check_sites_fit_job({site("a", 1), site("b", 2)}, {"h1", "h1", "h2"}, "s.toml"));
  try {
    check_sites_fit_job({site("a", 1), site("b", 2)}, {"h1", "h2"}, "s.toml");
    ADD_FAILURE() << "3 ranks asked of 2 workers";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("s.toml: the [[sites]] ask for 3 worker ranks, but this job has 2"),
              std::string::npos)
        << e.what();
  }
  try {
    check_sites_fit_job({site("a", 0, {"h9"})}, {"h1", "h1"}, "s.toml");
    ADD_FAILURE() << "a host outside the job";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("site 'a' lists host 'h9', which runs no worker of this job (workers on: h1)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cs::orchestrator
