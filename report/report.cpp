// The report: tables and statistics from a results file, plots rendered by gnuplot.
#include "report/report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "base/order_statistics.hpp"
#include "base/subprocess.hpp"
#include "base/units.hpp"
#include "carbon/carbon_source.hpp"
#include "carbon/emissions.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "energy/meter_factory.hpp"
#include "io/results_store.hpp"
#include "report/counterfactual.hpp"
#include "report/document.hpp"
#include "report/figures.hpp"
#include "report/statistics.hpp"
#include "report/writers.hpp"
#include "search/pareto.hpp"

namespace cs::report {

namespace {

namespace fs = std::filesystem;

bool finished_ok(const io::TrialResult& r) { return r.status == search::TrialStatus::kCompleted; }

std::map<std::string, std::vector<const io::TrialResult*>> by_arm(const io::LoadedResults& results) {
  std::map<std::string, std::vector<const io::TrialResult*>> arms;
  for (const auto& r : results.trials) arms[r.spec.arm].push_back(&r);
  for (auto& [name, trials] : arms) {
    std::sort(trials.begin(), trials.end(), [](auto a, auto b) { return a->spec.id < b->spec.id; });
  }
  return arms;
}

Section strategy_section(const io::LoadedResults& results, const fs::path& plots, const std::string& gnuplot,
                         int& made) {
  Section s{"Strategies", {}, {}, {}};
  double best = -1e300;
  double lowest = 1e300, max_energy = 0.0;
  for (const auto& r : results.trials) {
    if (!finished_ok(r)) continue;
    best = std::max(best, r.objective);
    lowest = std::min(lowest, r.objective);
    max_energy = std::max(max_energy, r.energy_j);
  }
  const double threshold = best - 0.01 * std::abs(best);
  s.paragraphs.push_back(fmt::format(
      "Best objective {:.4f}. \"Within 1%\" means an objective of at least {:.4f}; the energy and CO2 to reach it "
      "count the arm's trials in trial order up to the first that did. Hypervolume: objective against device "
      "energy [kWh], reference ({:.4f}, {:.6f} kWh).",
      best, threshold, lowest, 1.1 * max_energy / kJoulesPerKwh));
  TableBlock t{{"arm", "trials", "best objective", "test accuracy of best", "trial at optimum", "kWh to 1%",
                "gCO2 to 1%", "total kWh", "total gCO2", "pruned", "kWh saved by pruning", "hypervolume"},
               {}};
  std::string best_script;
  int arm_index = 0;
  for (const auto& [name, trials] : by_arm(results)) {
    double arm_best = -1e300, best_test = std::nan(""), energy_j = 0, co2 = 0, to_1pct_j = -1, to_1pct_co2 = -1,
           saved = 0;
    int at = 0, pruned = 0;
    std::vector<search::TradeOff> points;
    std::ostringstream curve;
    double running_best = -1e300;
    for (std::size_t i = 0; i < trials.size(); ++i) {
      const auto& r = *trials[i];
      energy_j += r.energy_j;
      co2 += r.co2_g;
      saved += r.pruning_saved_energy_j;
      pruned += r.status == search::TrialStatus::kPruned;
      if (finished_ok(r)) {
        if (r.objective > arm_best) {
          arm_best = r.objective;
          best_test = r.test_accuracy;
          at = static_cast<int>(i) + 1;
        }
        if (to_1pct_j < 0 && r.objective >= threshold) {
          to_1pct_j = energy_j;
          to_1pct_co2 = co2;
        }
        points.push_back({r.spec.id, r.objective, r.energy_j / kJoulesPerKwh});
        running_best = std::max(running_best, r.objective);
      }
      if (running_best > -1e300) curve << energy_j / kJoulesPerKwh << ' ' << running_best << '\n';
    }
    const double hv = search::hypervolume_2d(search::pareto_front(points), lowest, 1.1 * max_energy / kJoulesPerKwh);
    t.rows.push_back({name, std::to_string(trials.size()), arm_best > -1e300 ? fmt::format("{:.4f}", arm_best) : "-",
                      std::isfinite(best_test) ? fmt::format("{:.4f}", best_test) : "-", at ? std::to_string(at) : "-",
                      to_1pct_j >= 0 ? kwh(to_1pct_j) : "not reached",
                      to_1pct_co2 >= 0 ? fmt::format("{:.4f}", to_1pct_co2) : "not reached", kwh(energy_j),
                      fmt::format("{:.4f}", co2), std::to_string(pruned), kwh(saved), fmt::format("{:.6g}", hv)});
    const auto file = fmt::format("best_{}.dat", arm_index++);
    write_text(plots / file, curve.str());
    best_script += fmt::format("{}'{}' using 1:2 with steps linewidth 2 title '{}'",
                               best_script.empty() ? "plot " : ", ", file, name);
  }
  s.tables.push_back(std::move(t));
  if (!best_script.empty()) {
    render_plot(s, plots, gnuplot, "best_so_far",
                "set xlabel 'cumulative device energy [kWh]'\nset ylabel 'best objective so far'\n"
                "set key bottom right\nset grid\n" +
                    best_script + "\n",
                made);
  }
  return s;
}

Section study_section(const io::LoadedResults& results, const std::string& path) {
  const auto attr = [&](const char* key) {
    const auto it = results.provenance.find(key);
    return it == results.provenance.end() ? std::string("?") : it->second;
  };
  Section s{"Study", {}, {}, {}};
  s.paragraphs.push_back(fmt::format("{} trials from {}. Tool {} ({}), created {}, hosts {}.", results.trials.size(),
                                     path, attr("tool_version"), attr("git_sha"), attr("created_utc"), attr("hosts")));
  if (results.provenance.count("simulated")) {
    s.paragraphs.push_back("Simulated by `carbonsweep simulate`; cost model: " + attr("cost_model") + ".");
  }
  double idle_j = 0, idle_g = 0, idle_s = 0;
  for (const auto& r : results.idle) {
    idle_j += r.energy_j;
    idle_g += r.co2_g;
    idle_s += r.idle_s;
  }
  s.paragraphs.push_back(fmt::format(
      "Placement: {} (forecast: {}). Workers waited {:.1f} h in all without a trial, which at the configured idle "
      "power cost {} kWh and {:.4f} gCO2, beside the trials' own.",
      attr("placement"), attr("forecast"), idle_s / 3600.0, kwh(idle_j), idle_g));
  if (!results.attempts.empty() || results.provenance.count("faults")) {
    double attempt_j = 0, attempt_g = 0;
    std::size_t interrupted = 0;
    for (const auto& a : results.attempts) {
      attempt_j += a.facility_energy_j;
      if (std::isfinite(a.co2_g)) attempt_g += a.co2_g;
      interrupted += a.status == search::TrialStatus::kInterrupted;
    }
    s.paragraphs.push_back(fmt::format(
        "Faults: {}. {} attempt(s) did not become a trial's result ({} retried after a failure or timeout, {} "
        "interrupted and run again by --resume); they cost {} kWh (facility) and {:.4f} gCO2 beside the trials' own.",
        results.provenance.count("faults") ? attr("faults") : "none recorded", results.attempts.size(),
        results.attempts.size() - interrupted, interrupted, kwh(attempt_j), attempt_g));
  }
  return s;
}

Section site_section(const io::LoadedResults& results) {
  Section s{"Sites", {}, {}, {}};
  struct Totals {
    int trials = 0;
    double device_j = 0, facility_j = 0, co2 = 0, priced_facility_j = 0, co2_marginal = 0;
    int unpriced = 0;  ///< trials with no CO2 (priced outside their trace)
    bool marginal = false;
  };
  std::map<std::string, Totals> sites;
  bool any_marginal = false;
  for (const auto& r : results.trials) {
    auto& t = sites[r.site];
    ++t.trials;
    t.device_j += r.energy_j;
    t.facility_j += r.facility_energy_j;
    if (std::isfinite(r.co2_g)) {
      t.co2 += r.co2_g;
      t.priced_facility_j += r.facility_energy_j;
    } else {
      ++t.unpriced;
    }
    if (!std::isnan(r.co2_marginal_g)) {
      t.co2_marginal += r.co2_marginal_g;
      t.marginal = any_marginal = true;
    }
  }
  // The intensity column is gCO2 per facility kWh: the energy-weighted mean the trials saw.
  TableBlock t{{"site", "trials", "device kWh", "facility kWh", "gCO2", "gCO2 per facility kWh", "not priced"}, {}};
  if (any_marginal) t.header.push_back("gCO2 (marginal)");
  for (const auto& [name, v] : sites) {
    t.rows.push_back(
        {name, std::to_string(v.trials), kwh(v.device_j), kwh(v.facility_j), fmt::format("{:.4f}", v.co2),
         v.priced_facility_j > 0 ? fmt::format("{:.1f}", v.co2 / (v.priced_facility_j / kJoulesPerKwh)) : "-",
         std::to_string(v.unpriced)});
    if (any_marginal) t.rows.back().push_back(v.marginal ? fmt::format("{:.4f}", v.co2_marginal) : "no trace");
  }
  if (any_marginal) {
    s.paragraphs.push_back(
        "CO2 is priced at average intensities; sites with a marginal trace are also priced at it (last column), so "
        "that a saving under one convention can be read under the other.");
  }
  s.tables.push_back(std::move(t));

  add_counterfactual(results, s);
  return s;
}

Section statistics_section(const io::LoadedResults& results) {
  Section s{"Statistics", {}, {}, {}};
  s.paragraphs.push_back(
      "Kruskal-Wallis H test (tie-corrected) with its chi-squared p-value and eta squared = (H - k + 1)/(n - k). "
      "NaN or infinite values (a trial priced outside its trace has NaN CO2) are missing: counted, not ranked. "
      "The published location study found that region changes emissions but not energy.");
  TableBlock t{{"quantity", "grouped by", "groups", "n", "missing", "H", "p", "eta^2", "median per group"}, {}};
  const auto add = [&](const std::string& what, const std::string& by, auto value, auto key, const char* unit) {
    std::map<std::string, std::vector<double>> groups;
    for (const auto& r : results.trials) groups[key(r)].push_back(value(r));
    std::vector<std::vector<double>> g;
    std::vector<std::string> medians;
    std::size_t n = 0;
    for (auto& [name, v] : groups) {
      n += v.size();
      g.push_back(v);
      std::vector<double> finite;
      std::copy_if(v.begin(), v.end(), std::back_inserter(finite), [](double x) { return std::isfinite(x); });
      medians.push_back(fmt::format("{}: {:.4g} {}", name, median(finite), unit));
    }
    const auto kw = kruskal_wallis(g);
    t.rows.push_back({what, by, std::to_string(g.size()), std::to_string(n - kw.missing), std::to_string(kw.missing),
                      kw.valid ? fmt::format("{:.3f}", kw.h) : "-", kw.valid ? fmt::format("{:.3g}", kw.p_value) : "-",
                      kw.valid ? fmt::format("{:.3f}", kw.eta_squared) : "-",
                      fmt::format("{}", fmt::join(medians, "; "))});
  };
  const auto energy_of = [](const io::TrialResult& r) { return r.energy_j; };
  const auto co2_of = [](const io::TrialResult& r) { return r.co2_g; };
  const auto site_of = [](const io::TrialResult& r) { return r.site; };
  const auto arm_of = [](const io::TrialResult& r) { return r.spec.arm; };
  add("device energy", "site", energy_of, site_of, "J");
  add("CO2", "site", co2_of, site_of, "g");
  add("device energy", "strategy", energy_of, arm_of, "J");
  // Each categorical search parameter and each network: which settings cost the energy (the
  // published layer study: convolution blocks dominate).
  std::set<std::string> models;
  for (const auto& r : results.trials) models.insert(r.model);
  // Parameters with a few distinct values (categorical ones, a grid's axes) group the trials.
  std::map<std::string, std::set<std::string>> distinct;
  const auto text_of = [](const search::ParamValue& v) {
    return std::visit([](const auto& x) { return fmt::format("{}", x); }, v);
  };
  for (const auto& r : results.trials) {
    for (const auto& q : r.spec.params) distinct[q.name].insert(text_of(q.value));
  }
  if (models.size() > 1 && !distinct.contains("model.arch") && !distinct.contains("model.family")) {
    add(
        "device energy", "model", energy_of, [](const io::TrialResult& r) { return r.model; }, "J");
  }
  for (const auto& [name, values] : distinct) {
    if (values.size() < 2 || values.size() > 8) continue;
    const auto value_of = [&, param = name](const io::TrialResult& r) {
      for (const auto& q : r.spec.params) {
        if (q.name == param) return text_of(q.value);
      }
      return std::string("-");
    };
    add("device energy", name, energy_of, value_of, "J");
  }
  s.tables.push_back(std::move(t));
  return s;
}

/// What each network is and costs: size, multiply-accumulates, energy per epoch, and how well
/// multiply-accumulates predict energy (the published finding: poorly).
Section model_section(const io::LoadedResults& results, const fs::path& plots, const std::string& gnuplot, int& made) {
  Section s{"Models", {}, {}, {}};
  std::map<std::string, std::vector<const io::TrialResult*>> by_model;
  for (const auto& r : results.trials) {
    if (!r.model.empty() && finished_ok(r)) by_model[r.model].push_back(&r);
  }
  if (by_model.empty()) {
    s.paragraphs.push_back("No trained networks (a function study, or no completed trial).");
    return s;
  }
  TableBlock t{{"model", "trials", "parameters", "MMAC per sample", "median J per epoch", "median val accuracy",
                "best test accuracy"},
               {}};
  std::vector<double> macs, energy_per_epoch;
  std::ostringstream points;
  for (const auto& [name, trials] : by_model) {
    std::vector<double> epoch_j, accuracy;
    double best_test = std::nan("");
    for (const auto* r : trials) {
      const double per_epoch = r->energy_j / std::max(r->epochs_done, 1);
      epoch_j.push_back(per_epoch);
      accuracy.push_back(r->val_accuracy);
      if (std::isfinite(r->test_accuracy) && !(r->test_accuracy <= best_test)) best_test = r->test_accuracy;
      macs.push_back(r->macs);
      energy_per_epoch.push_back(per_epoch);
      if (std::isfinite(r->macs)) points << r->macs / 1e6 << ' ' << per_epoch << '\n';
    }
    const auto* first = trials.front();
    t.rows.push_back({name, std::to_string(trials.size()), std::to_string(first->parameters),
                      std::isfinite(first->macs) ? fmt::format("{:.3f}", first->macs / 1e6) : "-",
                      fmt::format("{:.1f}", median(epoch_j)), fmt::format("{:.4f}", median(accuracy)),
                      std::isfinite(best_test) ? fmt::format("{:.4f}", best_test) : "-"});
  }
  s.paragraphs.push_back(fmt::format(
      "Parameters and multiply-accumulates (MAC, of the conv and linear layers, per sample) are counted on the built "
      "network, not estimated. Spearman's rank correlation of MAC per sample against device energy per epoch over "
      "{} completed trials: {:.3f} (1: MACs order the trials' energy perfectly; near 0: they do not). Rows whose "
      "searched parameters change the network (depth, width) show the first trial's size.",
      macs.size(), spearman(macs, energy_per_epoch)));
  s.tables.push_back(std::move(t));
  write_text(plots / "macs.dat", points.str());
  render_plot(
      s, plots, gnuplot, "energy_vs_macs",
      "set xlabel 'forward MAC per sample [millions]'\nset ylabel 'device energy per epoch [J]'\nset logscale x\n"
      "set grid\nunset key\nplot 'macs.dat' using 1:2 with points pointtype 7 pointsize 0.6\n",
      made);
  return s;
}

Section tradeoff_section(const io::LoadedResults& results, const fs::path& plots, const std::string& gnuplot,
                         int& made) {
  Section s{"Accuracy against energy", {}, {}, {}};
  std::vector<search::TradeOff> points;
  std::ostringstream all;
  for (const auto& r : results.trials) {
    if (!finished_ok(r)) continue;
    points.push_back({r.spec.id, r.objective, r.energy_j / kJoulesPerKwh});
    all << points.back().cost << ' ' << points.back().objective << '\n';
  }
  const auto front = search::pareto_front(points);
  std::ostringstream front_text;
  TableBlock t{{"trial", "objective", "device kWh"}, {}};
  for (const auto& p : front) {
    front_text << p.cost << ' ' << p.objective << '\n';
    t.rows.push_back({std::to_string(p.trial_id), fmt::format("{:.4f}", p.objective), fmt::format("{:.6f}", p.cost)});
  }
  s.paragraphs.push_back(
      fmt::format("{} completed trials, {} on the Pareto front (maximise objective, minimise energy).", points.size(),
                  front.size()));
  s.tables.push_back(std::move(t));
  write_text(plots / "trials.dat", all.str());
  write_text(plots / "front.dat", front_text.str());
  render_plot(s, plots, gnuplot, "pareto",
              "set xlabel 'device energy per trial [kWh]'\nset ylabel 'objective'\nset key bottom right\nset grid\n"
              "plot 'trials.dat' using 1:2 with points pointtype 7 pointsize 0.6 title 'trials', "
              "'front.dat' using 1:2 with linespoints linewidth 2 title 'Pareto front'\n",
              made);
  std::ostringstream epochs;
  for (const auto& r : results.trials) {
    for (const auto& e : r.epochs) epochs << e.epoch << ' ' << e.objective << '\n';
    if (!r.epochs.empty()) epochs << "\n\n";
  }
  write_text(plots / "epochs.dat", epochs.str());
  render_plot(s, plots, gnuplot, "epochs",
              "set xlabel 'epoch'\nset ylabel 'objective'\nset grid\nunset key\n"
              "plot 'epochs.dat' using 1:2 with linespoints linecolor rgb '#4060a0' pointtype 7 pointsize 0.4\n",
              made);
  return s;
}

/// The GPUs the trials ran on and how their step ran; nothing for a CPU study.
std::optional<std::string> gpu_paragraph(const std::vector<io::TrialResult>& trials) {
  std::set<std::string> gpus;
  std::size_t on_gpu = 0, captured = 0, bf16 = 0, fp16 = 0, channels_last = 0;
  std::vector<double> ratio, interpolated;
  for (const auto& r : trials) {
    if (!r.gpu.empty()) gpus.insert(io::describe_gpu(r));
    if (r.cuda_graph.empty() && r.gpu.empty()) continue;
    ++on_gpu;
    captured += r.cuda_graph.starts_with("captured");
    bf16 += r.precision == "bf16";
    fp16 += r.precision == "fp16";
    channels_last += r.channels_last != 0;
    if (std::isfinite(r.gpu_counter_over_polled)) ratio.push_back(r.gpu_counter_over_polled);
    if (std::isfinite(r.gpu_interpolated)) interpolated.push_back(r.gpu_interpolated);
  }
  if (on_gpu == 0) return std::nullopt;
  std::string text = fmt::format(
      "GPU: {}. Of {} trials on a GPU, the training step ran as a CUDA graph in {}, in bf16 in {}, in fp16 in {}, "
      "channels-last in {}.",
      gpus.empty() ? "not named (no nvml meter)" : fmt::format("{}", fmt::join(gpus, "; ")), on_gpu, captured, bf16,
      fp16, channels_last);
  if (!ratio.empty()) {
    text += fmt::format(
        " NVML's energy counter over its polled power: median {:.3f} (range {:.3f}-{:.3f}); the share of a trial's "
        "NVML energy interpolated from polled power while the counter stood still: median {:.3f}.",
        median(ratio), *std::min_element(ratio.begin(), ratio.end()), *std::max_element(ratio.begin(), ratio.end()),
        interpolated.empty() ? std::nan("") : median(interpolated));
  }
  return text;
}

Section measurement_section(const io::LoadedResults& results, const fs::path& plots, const std::string& gnuplot,
                            int& made) {
  Section s{"Measurement", {}, {}, {}};
  // Which meters read, by kind; the first configured one is the primary (energy_j).
  std::vector<std::string> software, hardware;
  std::set<std::string> seen;
  for (const auto& r : results.trials) {
    for (const auto& m : r.meters) {
      if (std::isnan(m.energy_j) || !seen.insert(m.meter).second) continue;
      (energy::meter_traits(m.meter).kind == energy::MeterKind::kHardware ? hardware : software).push_back(m.meter);
    }
  }
  double gross = 0, net = 0, train = 0, eval = 0, sampler = 0, duration = 0;
  bool has_net = false;
  for (const auto& r : results.trials) {
    gross += r.energy_j;
    train += r.train_energy_j;
    eval += r.eval_energy_j;
    sampler += r.sampler_cpu_s;
    duration += r.end_unix_s - r.start_unix_s;
    if (!std::isnan(r.net_energy_j)) {
      net += r.net_energy_j;
      has_net = true;
    }
  }
  s.paragraphs.push_back(fmt::format(
      "Meters: software {}; hardware {}. Device energy {} kWh gross, {} net of the idle baseline; training phases "
      "{} kWh, evaluation {} kWh. The meters' own sampling thread used {:.3f} s of CPU over {:.1f} s of trials.",
      software.empty() ? "none" : fmt::format("{}", fmt::join(software, ", ")),
      hardware.empty() ? "none" : fmt::format("{}", fmt::join(hardware, ", ")), kwh(gross),
      has_net ? kwh(net) + " kWh" : "not measured (no [energy] idle_baseline)", kwh(train), kwh(eval), sampler,
      duration));

  if (auto gpu = gpu_paragraph(results.trials)) s.paragraphs.push_back(std::move(*gpu));

  // Software estimate against hardware measurement, trial by trial.
  if (software.empty() || hardware.empty()) {
    s.paragraphs.push_back(
        "Software against hardware: needs a software meter (estimate) and a hardware meter (rapl, nvml, external) in "
        "one study; this file does not have both.");
  } else {
    TableBlock t{{"software", "hardware", "trials", "mean software/hardware", "median", "total software kWh",
                  "total hardware kWh"},
                 {}};
    std::string script =
        "set xlabel 'hardware-measured energy per trial [kWh]'\n"
        "set ylabel 'software-estimated energy per trial [kWh]'\nset key top left\nset grid\nplot ";
    int pair = 0;
    for (const auto& sw : software) {
      for (const auto& hw : hardware) {
        std::vector<double> ratios;
        double total_sw = 0, total_hw = 0;
        std::ostringstream dat;
        for (const auto& r : results.trials) {
          double a = std::nan(""), b = std::nan("");
          for (const auto& m : r.meters) {
            if (m.meter == sw) a = m.energy_j;
            if (m.meter == hw) b = m.energy_j;
          }
          if (!(a >= 0) || !(b > 0)) continue;
          ratios.push_back(a / b);
          total_sw += a;
          total_hw += b;
          dat << b / kJoulesPerKwh << ' ' << a / kJoulesPerKwh << '\n';
        }
        if (ratios.empty()) continue;
        double mean = 0;
        for (double x : ratios) mean += x / static_cast<double>(ratios.size());
        std::sort(ratios.begin(), ratios.end());
        t.rows.push_back({sw, hw, std::to_string(ratios.size()), fmt::format("{:.3f}", mean),
                          fmt::format("{:.3f}", ratios[ratios.size() / 2]), kwh(total_sw), kwh(total_hw)});
        const auto file = fmt::format("meters_{}.dat", pair);
        write_text(plots / file, dat.str());
        script +=
            fmt::format("{}'{}' using 1:2 with points pointtype 7 pointsize 0.6 title '{} vs {} (mean ratio {:.2f})'",
                        pair++ ? ", " : "", file, sw, hw, mean);
      }
    }
    s.paragraphs.push_back(
        "Software against hardware, per trial (published software tools read 41-46% below a wall meter). The line "
        "is software = hardware.");
    s.tables.push_back(std::move(t));
    if (pair > 0)
      render_plot(s, plots, gnuplot, "software_vs_hardware", script + ", x with lines dashtype 2 title 'equal'\n",
                  made);
  }

  // Energy share by layer type, over the profiled steps of all trials.
  std::map<std::string, std::pair<double, double>> layers;  // type -> (time_s, energy_j)
  double layer_time = 0, layer_energy = 0;
  int profiled = 0;
  for (const auto& r : results.trials) {
    profiled += !r.layers.empty();
    for (const auto& l : r.layers) {
      layers[l.type].first += l.time_s;
      layers[l.type].second += l.energy_j;
      layer_time += l.time_s;
      layer_energy += l.energy_j;
    }
  }
  if (layers.empty()) {
    s.paragraphs.push_back("Energy by layer type: the layer profiler was off ([profiling] layers = true turns it on).");
    return s;
  }
  TableBlock t{{"layer type", "time s", "time share", "energy J", "energy share"}, {}};
  std::ostringstream dat;
  for (const auto& [type, v] : layers) {
    const double share = layer_energy > 0 ? v.second / layer_energy : 0.0;
    t.rows.push_back({type, fmt::format("{:.3f}", v.first), fmt::format("{:.1f}%", 100.0 * v.first / layer_time),
                      fmt::format("{:.3f}", v.second), fmt::format("{:.1f}%", 100.0 * share)});
    dat << '"' << type << "\" " << 100.0 * share << '\n';
  }
  s.paragraphs.push_back(fmt::format(
      "Energy by layer type: {} profiled trials; the measured energy of the profiled training steps attributed to "
      "layer types by their forward and backward time ('other': loss, optimiser step, data).",
      profiled));
  s.tables.push_back(std::move(t));
  write_text(plots / "layers.dat", dat.str());
  render_plot(
      s, plots, gnuplot, "layer_share",
      "set ylabel 'share of profiled energy [%]'\nset yrange [0:*]\nset style fill solid 0.7\nset boxwidth "
      "0.6\nset grid ytics\nunset key\nplot 'layers.dat' using 0:2:xtic(1) with boxes linecolor rgb '#4060a0'\n",
      made);
  return s;
}

}  // namespace

ReportFiles write_report(const ReportOptions& options) {
  const auto results = io::load_results(options.results_path);
  const fs::path dir = fs::absolute(options.out_dir);
  const fs::path plots = dir / "plots";
  std::error_code ec;
  fs::create_directories(plots, ec);
  if (ec || access(plots.c_str(), W_OK) != 0) {
    throw IoError(fmt::format("{}: cannot create or write the report directory", options.out_dir));
  }
  const std::string& name = results.study_name;
  const std::string title = fmt::format("carbonsweep report: {}", name);
  int made = 0;
  std::vector<Section> sections;
  sections.push_back(study_section(results, options.results_path));
  sections.push_back(strategy_section(results, plots, options.gnuplot, made));
  sections.push_back(site_section(results));
  sections.push_back(statistics_section(results));
  sections.push_back(model_section(results, plots, options.gnuplot, made));
  sections.push_back(tradeoff_section(results, plots, options.gnuplot, made));
  sections.push_back(measurement_section(results, plots, options.gnuplot, made));
  ReportFiles files{(dir / "report.md").string(), (dir / "report.html").string(), made, ""};
  if (made < 3) files.warning = fmt::format("only {} of 3 plots were rendered; is gnuplot installed?", made);
  const MarkdownWriter markdown;
  const HtmlWriter html(plots);
  for (const ReportWriter* writer :
       {static_cast<const ReportWriter*>(&markdown), static_cast<const ReportWriter*>(&html)}) {
    write_text(dir / writer->file_name(), writer->render(title, sections));
  }
  return files;
}

}  // namespace cs::report
