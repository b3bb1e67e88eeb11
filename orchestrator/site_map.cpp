// Rank-to-site mapping.
#include "orchestrator/site_map.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"

namespace cs::orchestrator {

std::vector<std::size_t> assign_sites(const std::vector<study::SiteConfig>& sites,
                                      const std::vector<std::string>& worker_hosts) {
  constexpr auto kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> site_of(worker_hosts.size(), kNone);
  for (std::size_t w = 0; w < worker_hosts.size(); ++w) {
    for (std::size_t s = 0; s < sites.size(); ++s) {
      const auto& hosts = sites[s].hosts;
      if (std::find(hosts.begin(), hosts.end(), worker_hosts[w]) != hosts.end()) {
        site_of[w] = s;
        break;
      }
    }
  }
  std::size_t w = 0;
  for (std::size_t s = 0; s < sites.size(); ++s) {
    for (int n = 0; n < sites[s].ranks; ++n) {
      while (w < site_of.size() && site_of[w] != kNone) ++w;
      if (w == site_of.size()) break;
      site_of[w] = s;
    }
  }
  std::size_t next = 0;
  for (auto& s : site_of) {
    if (s == kNone) s = next++ % sites.size();
  }
  return site_of;
}

std::vector<std::string> sites_without_workers(const std::vector<study::SiteConfig>& sites,
                                               const std::vector<std::size_t>& worker_sites) {
  std::vector<std::string> empty;
  for (std::size_t s = 0; s < sites.size(); ++s) {
    if (std::find(worker_sites.begin(), worker_sites.end(), s) == worker_sites.end()) empty.push_back(sites[s].name);
  }
  return empty;
}

void check_sites_fit_job(const std::vector<study::SiteConfig>& sites, const std::vector<std::string>& worker_hosts,
                         const std::string& study_path) {
  std::size_t asked = 0;
  for (const auto& site : sites) asked += static_cast<std::size_t>(site.ranks);
  if (asked > worker_hosts.size()) {
    throw ConfigError(
        fmt::format("{}: the [[sites]] ask for {} worker ranks, but this job has {} (rank 0 coordinates); "
                    "start {} ranks or lower the sites' ranks",
                    study_path, asked, worker_hosts.size(), asked + 1));
  }
  for (const auto& site : sites) {
    for (const auto& host : site.hosts) {
      if (std::find(worker_hosts.begin(), worker_hosts.end(), host) == worker_hosts.end()) {
        throw ConfigError(fmt::format(
            "{}: site '{}' lists host '{}', which runs no worker of this job (workers on: {})", study_path, site.name,
            host, fmt::join(std::set<std::string>(worker_hosts.begin(), worker_hosts.end()), ", ")));
      }
    }
  }
}

}  // namespace cs::orchestrator
