// Which site each worker rank stands at, from the study's [[sites]] tables.
#pragma once

#include <string>
#include <vector>

#include "study/study_config.hpp"

namespace cs::orchestrator {

/// For worker i (on host worker_hosts[i]) the index of its site. A worker whose host a site
/// lists goes there; the others fill the sites' `ranks` counts in order; any left over are
/// spread round-robin over all sites. Deterministic, so every rank computes the same map.
std::vector<std::size_t> assign_sites(const std::vector<study::SiteConfig>& sites,
                                      const std::vector<std::string>& worker_hosts);

/// The names of the sites that `worker_sites` (from assign_sites) gives no worker: their trials
/// cannot run there, and a comparison across sites would silently lack them.
std::vector<std::string> sites_without_workers(const std::vector<study::SiteConfig>& sites,
                                               const std::vector<std::size_t>& worker_sites);

/// Checked when a job of several ranks starts: the sites' `ranks` must fit its workers, and
/// every host a site lists must run a worker of the job. Throws ConfigError naming `study_path`.
void check_sites_fit_job(const std::vector<study::SiteConfig>& sites, const std::vector<std::string>& worker_hosts,
                         const std::string& study_path);

}  // namespace cs::orchestrator
