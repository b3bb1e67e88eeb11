// Published annual average grid carbon intensities of regions and cloud regions.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cs::carbon {

struct RegionIntensity {
  std::string key;       ///< what a study file names: "us-west1", or an alias such as "oregon"
  std::string location;  ///< "Oregon, USA"
  double intensity_g_per_kwh = 0.0;
  std::string source;  ///< short citation; docs/carbon.md gives the full reference
};

/// The built-in table, one entry per key (aliases included).
const std::vector<RegionIntensity>& region_table();

/// Case-insensitive lookup; nullopt for an unknown region.
std::optional<RegionIntensity> lookup_region(const std::string& key);

}  // namespace cs::carbon
