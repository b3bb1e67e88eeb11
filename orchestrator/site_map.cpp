// Rank-to-site mapping.
#include "orchestrator/site_map.hpp"

#include <algorithm>

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

}  // namespace cs::orchestrator
