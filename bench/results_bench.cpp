// Results durability and size: journal append throughput with group commit, the latency of
// one durable append, HDF5 checkpoint time and bytes per trial, and `report` on 100k trials.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/results_store.hpp"
#include "report/report.hpp"

using namespace cs;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

study::SiteConfig constant_site(const std::string& name, double pue, double intensity_g_per_kwh) {
  study::SiteConfig site;
  site.name = name;
  site.pue = pue;
  site.intensity_g_per_kwh = intensity_g_per_kwh;
  site.ranks = 1;
  site.carbon = std::make_shared<carbon::ConstantCarbonSource>(intensity_g_per_kwh);
  return site;
}

io::TrialResult trial(std::int64_t id) {
  io::TrialResult r;
  r.spec = {id,
            id % 2 ? "bayes" : "random",
            {{"lr", 1e-3 * static_cast<double>(id % 97 + 1)}, {"batch_size", std::int64_t{64}}}};
  r.site = id % 3 ? "norway" : "poland";
  r.host = "node01";
  r.start_unix_s = 1.7e9 + static_cast<double>(id);
  r.end_unix_s = r.start_unix_s + 30.0;
  r.epochs_done = 2;
  r.objective = r.val_accuracy = 0.5 + static_cast<double>(id % 1000) / 3000.0;
  r.epochs = {{1, 0.8, r.objective - 0.05, 150.0, 15.0}, {2, 0.6, r.objective, 150.0, 15.0}};
  r.meters = {{"estimate", "software", 300.0}};
  r.primary_meter = "estimate";
  r.energy_j = 300.0 + static_cast<double>(id % 50);
  r.pue = id % 3 ? 1.1 : 1.6;
  r.facility_energy_j = r.energy_j * r.pue;
  r.intensity_g_per_kwh = id % 3 ? 30.0 : 700.0;
  r.co2_g = r.facility_energy_j / 3.6e6 * r.intensity_g_per_kwh;
  return r;
}

io::StudyMeta meta() {
  return {"[study]\nname = \"bench\"\n",
          search::SearchSpace(
              {{"lr", search::ParamKind::kFloat, 1e-3, 0.1, true, {}},
               {"batch_size", search::ParamKind::kCategorical, 0, 1, false, {std::int64_t{32}, std::int64_t{64}}}}),
          {constant_site("norway", 1.1, 30.0), constant_site("poland", 1.6, 700.0)},
          {"estimate"},
          {}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "build/bench/results";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "bench.h5").string();
  constexpr int kTrials = 100'000, kBurst = 1000;

  io::ResultsStore store(path, meta());
  store.start_fresh();
  auto t0 = Clock::now();
  for (int i = 0; i < kTrials; ++i) {
    store.append(trial(i));
    if ((i + 1) % kBurst == 0) store.commit();  // one fsync per burst (group commit)
  }
  const double burst_s = seconds_since(t0);
  std::printf("journal append, bursts of %d with one fsync each: %.0f trial rows/s\n", kBurst, kTrials / burst_s);

  std::vector<double> latency_ms;
  for (int i = 0; i < 200; ++i) {
    t0 = Clock::now();
    store.append(trial(kTrials + i));
    store.commit();
    latency_ms.push_back(1e3 * seconds_since(t0));
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  std::printf("one durable append (append + fdatasync): median %.3f ms, p95 %.3f ms\n", latency_ms[100],
              latency_ms[190]);

  t0 = Clock::now();
  store.flush();
  std::printf("HDF5 checkpoint of %zu trials: %.2f s, %.0f bytes per trial (file), journal %.0f bytes per trial\n",
              store.results().size(), seconds_since(t0),
              static_cast<double>(std::filesystem::file_size(path)) / static_cast<double>(store.results().size()),
              static_cast<double>(std::filesystem::file_size(store.journal_path())) /
                  static_cast<double>(store.results().size()));

  t0 = Clock::now();
  const auto files = report::write_report({path, (dir / "report").string()});
  std::printf("report on %zu trials: %.2f s (%d plots)\n", store.results().size(), seconds_since(t0), files.plots);
}
