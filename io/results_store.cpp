// Results file layout: column tables, root attributes, atomic replace.
#include "io/results_store.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>

#include "base/error.hpp"
#include "carbon/trace_carbon_source.hpp"
#include "energy/meter_factory.hpp"
#include "io/hdf5.hpp"

namespace cs::io {

namespace {

using h5::Column;
using h5::ColumnType;
using h5::Table;

constexpr std::size_t kNameLen = 64;
constexpr std::size_t kErrorLen = 256;
constexpr const char* kProvenanceKeys[] = {"tool_version", "git_sha",      "hosts",         "libraries",
                                           "created_utc",  "slurm_job_id", "slurm_step_id", "slurm_energy",
                                           "placement",    "forecast",     "simulated",     "cost_model"};

Column text(const char* name, std::size_t len = kNameLen) { return {name, ColumnType::kString, "", len}; }
Column f64(const char* name, const char* units) { return {name, ColumnType::kFloat64, units, 0}; }
Column i64(const char* name, const char* units = "") { return {name, ColumnType::kInt64, units, 0}; }
Column i32(const char* name, const char* units = "") { return {name, ColumnType::kInt32, units, 0}; }

std::string meter_column(const std::string& meter) { return "energy_" + meter + "_j"; }

/// One /trials column: its definition, and how it is written from and read into a result.
struct TrialField {
  Column column;
  std::function<void(Table&, std::size_t, const TrialResult&)> write;
  std::function<void(const Table&, std::size_t, std::size_t, TrialResult&)> read;
};

template <typename Member>
TrialField number(Column column, Member TrialResult::*member) {
  return {std::move(column),
          [member](Table& t, std::size_t c, const TrialResult& r) {
            if constexpr (std::is_same_v<Member, double>)
              t.set(c, r.*member);
            else
              t.set(c, std::int64_t{r.*member});
          },
          [member](const Table& t, std::size_t row, std::size_t c, TrialResult& r) {
            if constexpr (std::is_same_v<Member, double>)
              r.*member = t.get_double(row, c);
            else
              r.*member = static_cast<Member>(t.get_int(row, c));
          }};
}

TrialField string(Column column, std::string TrialResult::*member) {
  return {
      std::move(column), [member](Table& t, std::size_t c, const TrialResult& r) { t.set(c, r.*member); },
      [member](const Table& t, std::size_t row, std::size_t c, TrialResult& r) { r.*member = t.get_string(row, c); }};
}

search::TrialStatus parse_status(const std::string& text) {
  for (auto s : {search::TrialStatus::kCompleted, search::TrialStatus::kFailed, search::TrialStatus::kDiverged,
                 search::TrialStatus::kPruned}) {
    if (text == search::to_string(s)) return s;
  }
  return search::TrialStatus::kFailed;
}

std::vector<TrialField> trial_fields(const std::vector<std::string>& meters) {
  std::vector<TrialField> f{
      {i64("trial_id"), [](Table& t, std::size_t c, const TrialResult& r) { t.set(c, r.spec.id); },
       [](const Table& t, std::size_t row, std::size_t c, TrialResult& r) { r.spec.id = t.get_int(row, c); }},
      {text("arm"), [](Table& t, std::size_t c, const TrialResult& r) { t.set(c, r.spec.arm); },
       [](const Table& t, std::size_t row, std::size_t c, TrialResult& r) { r.spec.arm = t.get_string(row, c); }},
      string(text("site"), &TrialResult::site),
      number(i32("rank"), &TrialResult::rank),
      string(text("host"), &TrialResult::host),
      {text("status", 16),
       [](Table& t, std::size_t c, const TrialResult& r) { t.set(c, std::string(search::to_string(r.status))); },
       [](const Table& t, std::size_t row, std::size_t c, TrialResult& r) {
         r.status = parse_status(t.get_string(row, c));
       }},
      string(text("error", kErrorLen), &TrialResult::error),
      number(i32("threads"), &TrialResult::threads),
      number(f64("start_unix_s", "s"), &TrialResult::start_unix_s),
      number(f64("end_unix_s", "s"), &TrialResult::end_unix_s),
      {f64("duration_s", "s"),
       [](Table& t, std::size_t c, const TrialResult& r) { t.set(c, r.end_unix_s - r.start_unix_s); },
       [](const Table&, std::size_t, std::size_t, TrialResult&) {}},
      number(i32("epochs", "1"), &TrialResult::epochs_done),
      number(f64("train_loss", "1"), &TrialResult::train_loss),
      number(f64("val_accuracy", "1"), &TrialResult::val_accuracy),
      number(f64("objective", "1"), &TrialResult::objective),
      string(text("primary_meter", 16), &TrialResult::primary_meter),
      number(f64("energy_j", "J"), &TrialResult::energy_j),
  };
  for (const auto& m : meters) {
    f.push_back({{meter_column(m), ColumnType::kFloat64, "J", 0},
                 [m](Table& t, std::size_t c, const TrialResult& r) {
                   double value = std::nan("");
                   for (const auto& reading : r.meters) {
                     if (reading.meter == m) value = reading.energy_j;
                   }
                   t.set(c, value);
                 },
                 [m](const Table& t, std::size_t row, std::size_t c, TrialResult& r) {
                   r.meters.push_back({m, "", t.get_double(row, c)});
                 }});
  }
  for (auto extra : {number(f64("pue", "1"), &TrialResult::pue),
                     number(f64("facility_energy_j", "J"), &TrialResult::facility_energy_j),
                     number(f64("intensity_g_per_kwh", "gCO2/kWh"), &TrialResult::intensity_g_per_kwh),
                     number(f64("co2_g", "gCO2"), &TrialResult::co2_g),
                     number(f64("co2_marginal_g", "gCO2"), &TrialResult::co2_marginal_g),
                     number(f64("priced_from_unix_s", "s"), &TrialResult::priced_from_unix_s),
                     number(f64("pruning_saved_energy_j", "J"), &TrialResult::pruning_saved_energy_j),
                     number(f64("sampler_cpu_s", "s"), &TrialResult::sampler_cpu_s),
                     number(f64("train_energy_j", "J"), &TrialResult::train_energy_j),
                     number(f64("eval_energy_j", "J"), &TrialResult::eval_energy_j),
                     number(f64("idle_power_w", "W"), &TrialResult::idle_power_w),
                     number(f64("net_energy_j", "J"), &TrialResult::net_energy_j),
                     number(i32("workers_on_node", "1"), &TrialResult::workers_on_node),
                     number(i32("profiled_steps", "1"), &TrialResult::profiled_steps)}) {
    f.push_back(std::move(extra));
  }
  return f;
}

Table trials_table(const std::vector<TrialResult>& results, const std::vector<std::string>& meters) {
  const auto fields = trial_fields(meters);
  std::vector<Column> columns;
  for (const auto& f : fields) columns.push_back(f.column);
  Table t(std::move(columns));
  for (const auto& r : results) {
    t.add_row();
    for (std::size_t c = 0; c < fields.size(); ++c) fields[c].write(t, c, r);
  }
  return t;
}

Table params_table(const std::vector<TrialResult>& results, const search::SearchSpace& space) {
  std::vector<Column> columns{i64("trial_id")};
  for (const auto& p : space.params()) {
    const bool is_text = p.kind == search::ParamKind::kCategorical && std::holds_alternative<std::string>(p.choices[0]);
    const bool is_int = p.kind == search::ParamKind::kInt || (p.kind == search::ParamKind::kCategorical &&
                                                              std::holds_alternative<std::int64_t>(p.choices[0]));
    columns.push_back(is_text ? text(p.name.c_str())
                              : Column{p.name, is_int ? ColumnType::kInt64 : ColumnType::kFloat64, "1", 0});
  }
  Table t(std::move(columns));
  for (const auto& r : results) {
    t.add_row();
    t.set(0, r.spec.id);
    for (std::size_t k = 0; k < space.size(); ++k) {
      for (const auto& p : r.spec.params) {
        if (p.name != space.params()[k].name) continue;
        std::visit([&](const auto& v) { t.set(k + 1, v); }, p.value);
      }
    }
  }
  return t;
}

Table epochs_table(const std::vector<TrialResult>& results) {
  Table t({i64("trial_id"), i32("epoch", "1"), f64("train_loss", "1"), f64("objective", "1"), f64("energy_j", "J"),
           f64("duration_s", "s"), f64("train_energy_j", "J"), f64("eval_energy_j", "J")});
  for (const auto& r : results) {
    for (const auto& e : r.epochs) {
      t.add_row();
      t.set(0, r.spec.id);
      t.set(1, std::int64_t{e.epoch});
      t.set(2, e.train_loss);
      t.set(3, e.objective);
      t.set(4, e.energy_j);
      t.set(5, e.duration_s);
      t.set(6, e.train_energy_j);
      t.set(7, e.eval_energy_j);
    }
  }
  return t;
}

Table layers_table(const std::vector<TrialResult>& results) {
  Table t({i64("trial_id"), text("layer_type", 16), f64("time_s", "s"), f64("time_share", "1"), f64("energy_j", "J")});
  for (const auto& r : results) {
    double total_s = 0.0;
    for (const auto& l : r.layers) total_s += l.time_s;
    for (const auto& l : r.layers) {
      t.add_row();
      t.set(0, r.spec.id);
      t.set(1, l.type);
      t.set(2, l.time_s);
      t.set(3, total_s > 0.0 ? l.time_s / total_s : 0.0);
      t.set(4, l.energy_j);
    }
  }
  return t;
}

Table meters_table(const StudyMeta& meta) {
  Table t({text("meter", 16), text("kind", 16), text("scope", 16), i32("primary", "1"), i32("apportioned", "1"),
           f64("interval_s", "s"), f64("idle_baseline_s", "s")});
  for (std::size_t i = 0; i < meta.meters.size(); ++i) {
    const auto traits = energy::meter_traits(meta.meters[i]);
    t.add_row();
    t.set(0, meta.meters[i]);
    t.set(1, std::string(energy::to_string(traits.kind)));
    t.set(2, std::string(energy::to_string(traits.scope)));
    t.set(3, std::int64_t{i == 0});
    t.set(4, std::int64_t{traits.scope == energy::MeterScope::kNode});
    t.set(5, meta.meter_interval_s);
    t.set(6, meta.idle_baseline_s);
  }
  return t;
}

Table idle_table(const std::vector<IdleRecord>& idle) {
  Table t({i32("rank"), text("site"), f64("idle_s", "s"), f64("energy_j", "J"), f64("co2_g", "gCO2")});
  for (const auto& r : idle) {
    t.add_row();
    t.set(0, std::int64_t{r.rank});
    t.set(1, r.site);
    t.set(2, r.idle_s);
    t.set(3, r.energy_j);
    t.set(4, r.co2_g);
  }
  return t;
}

/// The intensity series a site was priced with: a trace's points, or one row for a constant.
Table carbon_table(const study::SiteConfig& site) {
  Table t({f64("unix_s", "s"), f64("intensity_g_per_kwh", "gCO2/kWh")});
  for (const auto& p : site.carbon->points()) {
    t.add_row();
    t.set(0, p.unix_s);
    t.set(1, p.intensity_g_per_kwh);
  }
  if (site.carbon->points().empty()) {
    t.add_row();
    t.set(0, std::nan(""));
    t.set(1, site.intensity_g_per_kwh);
  }
  return t;
}

Table samples_table(const std::vector<TrialResult>& results) {
  Table t({i64("trial_id"), text("meter", 16), f64("t_s", "s"), f64("power_w", "W")});
  for (const auto& r : results) {
    for (const auto& s : r.samples) {
      t.add_row();
      t.set(0, r.spec.id);
      t.set(1, s.meter < r.meters.size() ? r.meters[s.meter].meter : std::string("?"));
      t.set(2, s.t_s);
      t.set(3, s.power_w);
    }
  }
  return t;
}

Table sites_table(const std::vector<study::SiteConfig>& sites) {
  Table t({text("name"), f64("pue", "1"), text("carbon_source", 128), f64("intensity_g_per_kwh", "gCO2/kWh")});
  for (const auto& s : sites) {
    t.add_row();
    t.set(0, s.name);
    t.set(1, s.pue);
    t.set(2, s.carbon->describe());
    t.set(3, s.intensity_g_per_kwh);
  }
  return t;
}

}  // namespace

ResultsStore::ResultsStore(std::string path, StudyMeta meta) : path_(std::move(path)), meta_(std::move(meta)) {
  h5::silence_error_stack();
  check_output_path(path_);
}

void ResultsStore::start_fresh() {
  journal_ = Journal::create(journal_path(), meta_.study_toml);
  results_.clear();
  flush();
}

ResumeReport ResultsStore::open_for_resume() {
  namespace fs = std::filesystem;
  ResumeReport report;
  const auto refuse_other_study = [&](const std::string& toml, const std::string& source) {
    if (toml != meta_.study_toml) {
      throw IoError(
          fmt::format("{}: written by a different study file; resume with the study that started it, or "
                      "choose another output",
                      source));
    }
  };
  if (fs::exists(journal_path())) {
    auto contents = read_journal(journal_path());
    refuse_other_study(contents.study_toml, journal_path());
    results_ = std::move(contents.results);
    journal_ = Journal::reopen(journal_path(), contents.valid_bytes);
    report = {results_.size(), contents.torn_bytes, journal_path()};
  } else if (fs::exists(path_)) {
    auto loaded = load_results(path_);
    refuse_other_study(loaded.study_toml, path_);
    results_ = std::move(loaded.trials);
    journal_ = Journal::create(journal_path(), meta_.study_toml);
    for (const auto& r : results_) journal_->append(r);
    journal_->sync();
    report = {results_.size(), 0, path_};
  } else {
    start_fresh();
    return report;
  }
  flush();
  return report;
}

void ResultsStore::append(TrialResult result) {
  if (journal_) journal_->append(result);
  results_.push_back(std::move(result));
}

void ResultsStore::commit() {
  if (journal_) journal_->sync();
}

void ResultsStore::flush() {
  const std::string tmp = path_ + ".tmp";
  {
    h5::Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "creating " + tmp);
    h5::write_int_attribute(file.get(), "schema_version", kSchemaVersion);
    h5::write_string_attribute(file.get(), "study_toml", meta_.study_toml);
    for (const auto& [key, value] : meta_.provenance) h5::write_string_attribute(file.get(), key, value);
    h5::write_table(file.get(), "trials", trials_table(results_, meta_.meters));
    h5::write_table(file.get(), "params", params_table(results_, meta_.space));
    h5::write_table(file.get(), "epochs", epochs_table(results_));
    h5::write_table(file.get(), "samples", samples_table(results_));
    h5::write_table(file.get(), "sites", sites_table(meta_.sites));
    h5::write_table(file.get(), "layers", layers_table(results_));
    h5::write_table(file.get(), "meters", meters_table(meta_));
    h5::write_table(file.get(), "idle", idle_table(idle_));
    h5::Handle carbon(H5Gcreate2(file.get(), "carbon", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                      "creating /carbon in " + tmp);
    for (const auto& site : meta_.sites) {
      h5::write_table(carbon.get(), study::carbon_dataset_name(site.name), carbon_table(site));
    }
    h5::check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flushing " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) throw IoError(fmt::format("{}: cannot replace the results file: {}", path_, ec.message()));
}

void check_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw IoError("the output path is empty; give a file name such as results/study.h5");
  if (path.size() > 4000)
    throw IoError(fmt::format("{}...: the output path is longer than 4000 characters", path.substr(0, 60)));
  for (const auto& part : fs::path(path)) {
    if (part.native().size() > 255) {
      throw IoError(
          fmt::format("{}...: a name in the output path is longer than 255 characters", part.native().substr(0, 60)));
    }
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw IoError(fmt::format("{}: the output is a directory; name a file in it", path));
  // The nearest folder that exists must be a writable directory.
  fs::path folder = fs::absolute(path, ec).parent_path();
  while (!folder.empty() && !fs::exists(folder, ec) && folder != folder.parent_path()) folder = folder.parent_path();
  if (!fs::is_directory(folder, ec)) {
    throw IoError(fmt::format("{}: {} is not a directory", path, folder.string()));
  }
  if (access(folder.c_str(), W_OK) != 0) {
    throw IoError(fmt::format("{}: the output directory {} is not writable", path, folder.string()));
  }
}

bool open_output_folder(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::absolute(path).parent_path();
  std::error_code ec;
  if (fs::is_directory(folder, ec)) return false;
  fs::create_directories(folder, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the output folder {}: {}", path, folder.string(), ec.message()));
  return true;
}

LoadedResults load_results(const std::string& path) {
  h5::silence_error_stack();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw IoError(fmt::format("{}: no such results file", path));
  if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError(fmt::format("{}: not an HDF5 file (empty or truncated?)", path));
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "opening " + path);
  LoadedResults out;
  try {
    out.schema_version = h5::read_int_attribute(file.get(), "schema_version");
  } catch (const IoError&) {
    throw IoError(fmt::format("{}: not a carbonsweep results file (no schema_version)", path));
  }
  if (out.schema_version != kSchemaVersion) {
    throw IoError(fmt::format("{}: schema_version {} is not supported; this build reads version {}", path,
                              out.schema_version, kSchemaVersion));
  }
  out.study_toml = h5::read_string_attribute(file.get(), "study_toml");
  // The stored study, read by the study parser; its traces are not read again (the file holds
  // the series each site was priced with).
  std::vector<study::SiteConfig> study_sites;
  try {
    const auto study = study::parse_study(out.study_toml, path + " (study_toml)", study::Sources::kSkip);
    out.study_name = study.name;
    out.time_scale = study.time.scale;
    study_sites = study.sites;
  } catch (const ConfigError&) {
    out.study_name = "study";  // written by a build that took other keys: keep the trials readable
  }
  for (const char* key : kProvenanceKeys) {
    if (H5Aexists(file.get(), key) > 0) out.provenance[key] = h5::read_string_attribute(file.get(), key);
  }
  const Table trials = h5::read_table(file.get(), "trials");
  const Table params = h5::read_table(file.get(), "params");
  const Table epochs = h5::read_table(file.get(), "epochs");
  const Table sites = h5::read_table(file.get(), "sites");
  const Table layers = h5::read_table(file.get(), "layers");
  const Table samples = h5::read_table(file.get(), "samples");
  const Table idle = h5::read_table(file.get(), "idle");
  for (std::size_t row = 0; row < idle.rows(); ++row) {
    out.idle.push_back({static_cast<std::int32_t>(idle.get_int(row, 0)), idle.get_string(row, 1),
                        idle.get_double(row, 2), idle.get_double(row, 3), idle.get_double(row, 4)});
  }
  if (H5Lexists(file.get(), "carbon", H5P_DEFAULT) <= 0) throw IoError(fmt::format("{}: no /carbon group", path));
  h5::Handle carbon(H5Gopen2(file.get(), "carbon", H5P_DEFAULT), H5Gclose, "opening /carbon in " + path);
  for (std::size_t row = 0; row < sites.rows(); ++row) {
    study::SiteConfig site;
    site.name = sites.get_string(row, sites.column_index("name"));
    site.pue = sites.get_double(row, sites.column_index("pue"));
    site.intensity_g_per_kwh = sites.get_double(row, sites.column_index("intensity_g_per_kwh"));
    for (const auto& s : study_sites) {
      if (s.name == site.name) site.interpolation = s.interpolation;
    }
    const Table series = h5::read_table(carbon.get(), study::carbon_dataset_name(site.name));
    std::vector<carbon::TracePoint> points;
    for (std::size_t i = 0; i < series.rows(); ++i)
      points.push_back({series.get_double(i, 0), series.get_double(i, 1)});
    // The series the site was priced with, held beyond its ends (a re-pricing may shift past them).
    if (points.empty() || std::isnan(points.front().unix_s)) {
      site.carbon = std::make_shared<carbon::ConstantCarbonSource>(site.intensity_g_per_kwh);
    } else {
      site.carbon = std::make_shared<carbon::TraceCarbonSource>(std::move(points), site.interpolation,
                                                                carbon::Extrapolation::kHold, site.name);
    }
    out.sites.push_back(std::move(site));
  }
  std::vector<std::string> meters;
  for (const auto& c : trials.columns()) {
    if (c.name.starts_with("energy_") && c.name.ends_with("_j") && c.name != "energy_j") {
      meters.push_back(c.name.substr(7, c.name.size() - 9));
    }
  }
  std::vector<std::pair<TrialField, std::size_t>> readers;
  for (auto& f : trial_fields(meters)) {
    const std::size_t c = trials.column_index(f.column.name);
    readers.emplace_back(std::move(f), c);
  }
  std::map<std::int64_t, std::size_t> by_id;
  for (std::size_t row = 0; row < trials.rows(); ++row) {
    TrialResult r;
    for (const auto& [field, c] : readers) field.read(trials, row, c, r);
    by_id[r.spec.id] = out.trials.size();
    out.trials.push_back(std::move(r));
  }
  for (std::size_t row = 0; row < params.rows(); ++row) {
    const auto it = by_id.find(params.get_int(row, 0));
    if (it == by_id.end()) continue;
    auto& spec = out.trials[it->second].spec;
    for (std::size_t c = 1; c < params.columns().size(); ++c) {
      const auto& column = params.columns()[c];
      search::ParamValue v;
      if (column.type == ColumnType::kString)
        v = params.get_string(row, c);
      else if (column.type == ColumnType::kFloat64)
        v = params.get_double(row, c);
      else
        v = params.get_int(row, c);
      spec.params.push_back({column.name, v});
    }
  }
  for (std::size_t row = 0; row < epochs.rows(); ++row) {
    const auto it = by_id.find(epochs.get_int(row, 0));
    if (it == by_id.end()) continue;
    out.trials[it->second].epochs.push_back(
        {static_cast<std::int32_t>(epochs.get_int(row, 1)), epochs.get_double(row, 2), epochs.get_double(row, 3),
         epochs.get_double(row, 4), epochs.get_double(row, 5), epochs.get_double(row, 6), epochs.get_double(row, 7)});
  }
  for (std::size_t row = 0; row < layers.rows(); ++row) {
    const auto it = by_id.find(layers.get_int(row, 0));
    if (it == by_id.end()) continue;
    out.trials[it->second].layers.push_back(
        {layers.get_string(row, 1), layers.get_double(row, 2), layers.get_double(row, 4)});
  }
  for (std::size_t row = 0; row < samples.rows(); ++row) {
    const auto it = by_id.find(samples.get_int(row, 0));
    if (it == by_id.end()) continue;
    auto& trial = out.trials[it->second];
    const std::string meter = samples.get_string(row, 1);
    std::size_t index = 0;
    while (index < trial.meters.size() && trial.meters[index].meter != meter) ++index;
    if (index == trial.meters.size()) continue;
    trial.samples.push_back({samples.get_double(row, 2), index, samples.get_double(row, 3)});
  }
  return out;
}

}  // namespace cs::io
