// The region table: Google Cloud's published 2020 lifecycle grid intensities per region
// (GoogleCloudPlatform/region-carbon-info, data/yearly/2020.csv), keyed by region name and by
// location alias. See docs/carbon.md for the reference and its caveats.
#include "carbon/region_table.hpp"

#include <algorithm>
#include <cctype>

namespace cs::carbon {

namespace {

constexpr const char* kGoogle2020 = "Google Cloud region-carbon-info, 2020 yearly, lifecycle grid intensity";

struct Row {
  const char* region;
  const char* alias;  ///< a location name a study may use instead; empty for none
  const char* location;
  double g_per_kwh;
};

// data/yearly/2020.csv of github.com/GoogleCloudPlatform/region-carbon-info.
constexpr Row kGoogleRegions2020[] = {
    {"asia-east1", "taiwan", "Changhua County, Taiwan", 540},
    {"asia-east2", "hong-kong", "Hong Kong", 453},
    {"asia-northeast1", "tokyo", "Tokyo, Japan", 554},
    {"asia-northeast2", "osaka", "Osaka, Japan", 442},
    {"asia-northeast3", "seoul", "Seoul, South Korea", 457},
    {"asia-south1", "mumbai", "Mumbai, India", 721},
    {"asia-south2", "delhi", "Delhi, India", 657},
    {"asia-southeast1", "singapore", "Singapore", 493},
    {"asia-southeast2", "jakarta", "Jakarta, Indonesia", 647},
    {"australia-southeast1", "sydney", "Sydney, Australia", 727},
    {"australia-southeast2", "melbourne", "Melbourne, Australia", 691},
    {"europe-central2", "warsaw", "Warsaw, Poland", 622},
    {"europe-north1", "finland", "Hamina, Finland", 133},
    {"europe-west1", "belgium", "St. Ghislain, Belgium", 212},
    {"europe-west2", "london", "London, England", 231},
    {"europe-west3", "frankfurt", "Frankfurt, Germany", 293},
    {"europe-west4", "netherlands", "Eemshaven, Netherlands", 410},
    {"europe-west6", "zurich", "Zurich, Switzerland", 87},
    {"northamerica-northeast1", "montreal", "Montréal, Canada", 27},
    {"southamerica-east1", "sao-paulo", "São Paulo, Brazil", 103},
    {"us-central1", "iowa", "Council Bluffs, Iowa, USA", 454},
    {"us-east1", "south-carolina", "Moncks Corner, South Carolina, USA", 480},
    {"us-east4", "northern-virginia", "Ashburn, Northern Virginia, USA", 361},
    {"us-west1", "oregon", "The Dalles, Oregon, USA", 78},
    {"us-west2", "los-angeles", "Los Angeles, California, USA", 253},
    {"us-west3", "salt-lake-city", "Salt Lake City, Utah, USA", 533},
    {"us-west4", "las-vegas", "Las Vegas, Nevada, USA", 455},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

const std::vector<RegionIntensity>& region_table() {
  static const std::vector<RegionIntensity> table = [] {
    std::vector<RegionIntensity> t;
    for (const auto& row : kGoogleRegions2020) {
      t.push_back({row.region, row.location, row.g_per_kwh, kGoogle2020});
      if (row.alias[0] != '\0') t.push_back({row.alias, row.location, row.g_per_kwh, kGoogle2020});
    }
    // The published location study names Taipei; Google's Taiwan region is on the same grid.
    t.push_back({"taipei", "Taiwan grid (asia-east1)", 540, kGoogle2020});
    return t;
  }();
  return table;
}

std::optional<RegionIntensity> lookup_region(const std::string& key) {
  const std::string wanted = lower(key);
  for (const auto& r : region_table()) {
    if (r.key == wanted) return r;
  }
  return std::nullopt;
}

}  // namespace cs::carbon
