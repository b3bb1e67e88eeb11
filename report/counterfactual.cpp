// Re-pricing the sweep at every site and later start times.
#include "report/counterfactual.hpp"

#include <cmath>

#include <fmt/format.h>

#include "base/units.hpp"

namespace cs::report {

std::vector<std::vector<PowerSample>> primary_series(const io::LoadedResults& results) {
  std::vector<std::vector<PowerSample>> out(results.trials.size());
  for (std::size_t i = 0; i < results.trials.size(); ++i) {
    for (const auto& sample : results.trials[i].samples) {
      if (sample.meter == 0) out[i].push_back(sample);
    }
  }
  return out;
}

carbon::Emissions reprice(const io::LoadedResults& results, const std::vector<std::vector<PowerSample>>& primary,
                          const carbon::CarbonSource& source, double pue, double shift_s) {
  carbon::Emissions total;
  double weighted = 0.0;
  for (std::size_t i = 0; i < results.trials.size(); ++i) {
    const auto& r = results.trials[i];
    // Loaded sources hold their ends, so every shift is priced.
    const auto e = carbon::integrate_emissions(primary[i], Joules{r.energy_j}, r.end_unix_s - r.start_unix_s, pue,
                                               source, r.priced_from_unix_s + shift_s, results.time_scale)
                       .value();
    total.facility_energy += e.facility_energy;
    total.co2_g += e.co2_g;
    weighted += e.intensity_g_per_kwh * e.facility_energy.value;
  }
  total.intensity_g_per_kwh = total.facility_energy.value > 0 ? weighted / total.facility_energy.value : 0.0;
  return total;
}

void add_counterfactual(const io::LoadedResults& results, Section& s) {
  TableBlock c{{"all trials at", "started", "PUE", "mean intensity gCO2/kWh", "gCO2", "vs actual"}, {}};
  double actual = 0, device_j = 0;
  for (const auto& r : results.trials) {
    actual += r.co2_g;
    device_j += r.energy_j;
  }
  const auto row = [&](const study::SiteConfig& site, const std::string& when, const carbon::Emissions& e) {
    c.rows.push_back({site.name, when, fmt::format("{:.2f}", site.pue), fmt::format("{:.1f}", e.intensity_g_per_kwh),
                      fmt::format("{:.4f}", e.co2_g),
                      actual > 0 ? fmt::format("{:+.1f}%", 100.0 * (e.co2_g / actual - 1)) : "-"});
  };
  bool any_trace = false;
  const auto primary = primary_series(results);
  for (const auto& site : results.sites) {
    const auto& source = site.carbon;
    if (std::isfinite(site.intensity_g_per_kwh)) {
      row(site, "any time", reprice(results, primary, *source, site.pue, 0.0));
      continue;
    }
    any_trace = true;
    for (const int hours : {0, 6, 12, 18}) {
      row(site, hours ? fmt::format("{} h later", hours) : "as run",
          reprice(results, primary, *source, site.pue, hours * 3600.0));
    }
    int best_hour = 1;
    carbon::Emissions best = reprice(results, primary, *source, site.pue, 3600.0);
    for (int hours = 2; hours < 24; ++hours) {
      const auto e = reprice(results, primary, *source, site.pue, hours * 3600.0);
      if (e.co2_g < best.co2_g) {
        best = e;
        best_hour = hours;
      }
    }
    row(site, fmt::format("best start 1-23 h later ({} h later)", best_hour), best);
  }
  s.paragraphs.push_back(fmt::format(
      "Counterfactual replay: the sweep's {} kWh of device energy re-priced at each site's PUE and intensity, "
      "trial by trial over each trial's own power series (actual: {:.4f} gCO2). {}",
      kwh(device_j), actual,
      any_trace ? "For trace sites the whole sweep is also shifted later in trace time, keeping each trial's "
                  "position in it; traces are held constant beyond their ends."
                : "The sites of this file have constant intensities, so a shift in time changes nothing."));
  s.tables.push_back(std::move(c));
}

}  // namespace cs::report
