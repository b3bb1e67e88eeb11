// Counterfactual replay: the sweep re-priced as if it had run at another site or time, from
// the results file alone (each trial's power series and the stored intensity series).
#pragma once

#include <vector>

#include "base/power_sample.hpp"
#include "carbon/emissions.hpp"
#include "io/results_store.hpp"
#include "report/document.hpp"

namespace cs::report {

/// Each trial's primary-meter power series, gathered once for all the re-pricings.
std::vector<std::vector<PowerSample>> primary_series(const io::LoadedResults& results);

/// Every trial re-priced at `source` and `pue`, started `shift_s` later in trace time: its own
/// primary-meter power series against the intensity it would have met. The intensity is the
/// facility-energy-weighted mean. `source` must hold its ends (loaded sources do).
carbon::Emissions reprice(const io::LoadedResults& results, const std::vector<std::vector<PowerSample>>& primary,
                          const carbon::CarbonSource& source, double pue, double shift_s);

/// The replay as a table in `section`: every site as run, and for trace sites 6, 12 and 18 h
/// later and the best whole-hour start 1 to 23 h later.
void add_counterfactual(const io::LoadedResults& results, Section& section);

}  // namespace cs::report
