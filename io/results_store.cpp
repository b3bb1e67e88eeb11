// Results file layout: column tables, root attributes, atomic replace.
#include "io/results_store.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

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
constexpr const char* kProvenanceKeys[] = {"tool_version", "git_sha",       "hosts",        "libraries", "created_utc",
                                           "slurm_job_id", "slurm_step_id", "slurm_energy", "placement", "forecast",
                                           "simulated",    "cost_model",    "faults"};

Column text(const char* name, std::size_t len = kNameLen) { return {name, ColumnType::kString, "", len}; }
Column f64(const char* name, const char* units) { return {name, ColumnType::kFloat64, units, 0}; }
Column i64(const char* name, const char* units = "") { return {name, ColumnType::kInt64, units, 0}; }
Column i32(const char* name, const char* units = "") { return {name, ColumnType::kInt32, units, 0}; }

std::string meter_column(const std::string& meter) { return "energy_" + meter + "_j"; }

/// One column of a table of records R: its definition, and how it is written from and read
/// into a record. Every dataset is written and read through one list of these (HighFive's
/// CompoundType idea), and columns are found by name when read.
template <typename R>
struct Field {
  Column column;
  std::function<void(Table&, std::size_t, const R&)> write;
  std::function<void(const Table&, std::size_t, std::size_t, R&)> read;  ///< no-op for derived columns
};

void put(Table& t, std::size_t c, double v) { t.set(c, v); }
void put(Table& t, std::size_t c, const std::string& v) { t.set(c, v); }
template <typename I>
requires std::is_integral_v<I>
void put(Table& t, std::size_t c, I v) { t.set(c, static_cast<std::int64_t>(v)); }
void take(const Table& t, std::size_t row, std::size_t c, double& v) { v = t.get_double(row, c); }
void take(const Table& t, std::size_t row, std::size_t c, std::string& v) { v = t.get_string(row, c); }
template <typename I>
requires std::is_integral_v<I>
void take(const Table& t, std::size_t row, std::size_t c, I& v) { v = static_cast<I>(t.get_int(row, c)); }

/// A column stored in the record at `at(record)`: a generic lambda returning a reference to the
/// member (const or not, so the one accessor serves writing and reading).
template <typename R, typename At>
Field<R> field(Column column, At at) {
  return {std::move(column), [at](Table& t, std::size_t c, const R& r) { put(t, c, at(r)); },
          [at](const Table& t, std::size_t row, std::size_t c, R& r) { take(t, row, c, at(r)); }};
}

/// A column holding the record's member `m`.
template <typename R, typename M>
Field<R> member(Column column, M R::*m) {
  return field<R>(
      std::move(column), [m](auto& r) -> auto& { return r.*m; });
}

/// A column computed from the record when written, not read back.
template <typename R, typename Value>
Field<R> derived(Column column, Value value) {
  return {std::move(column), [value](Table& t, std::size_t c, const R& r) { put(t, c, value(r)); },
          [](const Table&, std::size_t, std::size_t, R&) {}};
}

template <typename R>
Table write_rows(const std::vector<Field<R>>& fields, const std::vector<R>& rows) {
  std::vector<Column> columns;
  for (const auto& f : fields) columns.push_back(f.column);
  Table t(std::move(columns));
  for (const auto& r : rows) {
    t.add_row();
    for (std::size_t c = 0; c < fields.size(); ++c) fields[c].write(t, c, r);
  }
  return t;
}

/// The table's rows as records, every field found by its column name (IoError when absent).
template <typename R>
std::vector<R> read_rows(const std::vector<Field<R>>& fields, const Table& t) {
  std::vector<std::size_t> at;
  for (const auto& f : fields) at.push_back(t.column_index(f.column.name));
  std::vector<R> rows(t.rows());
  for (std::size_t row = 0; row < t.rows(); ++row) {
    for (std::size_t k = 0; k < fields.size(); ++k) fields[k].read(t, row, at[k], rows[row]);
  }
  return rows;
}

std::vector<Field<TrialResult>> trial_fields(const std::vector<std::string>& meters) {
  std::vector<Field<TrialResult>> f{
      field<TrialResult>(
          i64("trial_id"), [](auto& r) -> auto& { return r.spec.id; }),
      field<TrialResult>(
          text("arm"), [](auto& r) -> auto& { return r.spec.arm; }),
      member(text("site"), &TrialResult::site),
      member(i32("rank"), &TrialResult::rank),
      member(text("host"), &TrialResult::host),
      {text("status", 16),
       [](Table& t, std::size_t c, const TrialResult& r) { t.set(c, std::string(search::to_string(r.status))); },
       [](const Table& t, std::size_t row, std::size_t c, TrialResult& r) {
         r.status =
             enum_from_name(search::kTrialStatusNames, t.get_string(row, c)).value_or(search::TrialStatus::kFailed);
       }},
      member(text("error", kErrorLen), &TrialResult::error),
      member(i32("threads"), &TrialResult::threads),
      member(f64("start_unix_s", "s"), &TrialResult::start_unix_s),
      member(f64("end_unix_s", "s"), &TrialResult::end_unix_s),
      derived<TrialResult>(f64("duration_s", "s"), [](const TrialResult& r) { return r.end_unix_s - r.start_unix_s; }),
      member(i32("epochs", "1"), &TrialResult::epochs_done),
      member(f64("train_loss", "1"), &TrialResult::train_loss),
      member(f64("val_accuracy", "1"), &TrialResult::val_accuracy),
      member(f64("test_accuracy", "1"), &TrialResult::test_accuracy),
      member(f64("objective", "1"), &TrialResult::objective),
      member(text("primary_meter", 16), &TrialResult::primary_meter),
      member(f64("energy_j", "J"), &TrialResult::energy_j),
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
  for (auto extra : {member(f64("pue", "1"), &TrialResult::pue),
                     member(f64("facility_energy_j", "J"), &TrialResult::facility_energy_j),
                     member(f64("intensity_g_per_kwh", "gCO2/kWh"), &TrialResult::intensity_g_per_kwh),
                     member(f64("co2_g", "gCO2"), &TrialResult::co2_g),
                     member(f64("co2_marginal_g", "gCO2"), &TrialResult::co2_marginal_g),
                     member(f64("priced_from_unix_s", "s"), &TrialResult::priced_from_unix_s),
                     member(f64("pruning_saved_energy_j", "J"), &TrialResult::pruning_saved_energy_j),
                     member(f64("sampler_cpu_s", "s"), &TrialResult::sampler_cpu_s),
                     member(f64("train_energy_j", "J"), &TrialResult::train_energy_j),
                     member(f64("eval_energy_j", "J"), &TrialResult::eval_energy_j),
                     member(f64("idle_power_w", "W"), &TrialResult::idle_power_w),
                     member(f64("net_energy_j", "J"), &TrialResult::net_energy_j),
                     member(i32("workers_on_node", "1"), &TrialResult::workers_on_node),
                     member(i32("profiled_steps", "1"), &TrialResult::profiled_steps),
                     member(i32("attempt", "1"), &TrialResult::attempt),
                     member(f64("stall_s", "s"), &TrialResult::stall_s),
                     field<TrialResult>(
                         text("slurm_job_id", 32), [](auto& r) -> auto& { return r.slurm.job_id; }),
                     field<TrialResult>(
                         text("slurm_step_id", 32), [](auto& r) -> auto& { return r.slurm.step_id; }),
                     field<TrialResult>(
                         text("slurm_array_task", 32), [](auto& r) -> auto& { return r.slurm.array_task; }),
                     field<TrialResult>(
                         text("slurm_het_component", 16), [](auto& r) -> auto& { return r.slurm.het_component; }),
                     field<TrialResult>(
                         text("slurm_node", 64), [](auto& r) -> auto& { return r.slurm.node; }),
                     member(text("model", 32), &TrialResult::model),
                     member(i64("parameters", "1"), &TrialResult::parameters),
                     member(f64("macs", "1"), &TrialResult::macs),
                     member(text("inactive_params", 256), &TrialResult::inactive_params),
                     member(text("precision", 8), &TrialResult::precision),
                     member(i32("channels_last", "1"), &TrialResult::channels_last),
                     member(text("cuda_graph", 160), &TrialResult::cuda_graph),
                     member(text("gpu", 256), &TrialResult::gpu),
                     member(text("gpu_driver", 64), &TrialResult::gpu_driver),
                     member(f64("gpu_counter_over_polled", "1"), &TrialResult::gpu_counter_over_polled),
                     member(f64("gpu_interpolated", "1"), &TrialResult::gpu_interpolated)}) {
    f.push_back(std::move(extra));
  }
  return f;
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

/// A row of a per-trial child table: the trial it belongs to, and the child record.
template <typename Child>
struct ChildRow {
  std::int64_t trial_id = 0;
  Child value;
  double share = 0.0;  ///< /layers: the layer type's share of the profiled time (derived)
  std::string meter;   ///< /samples: the meter's name (the record holds its index)
};

template <typename Child, typename Get>
std::vector<ChildRow<Child>> child_rows(const std::vector<TrialResult>& results, Get children) {
  std::vector<ChildRow<Child>> rows;
  for (const auto& r : results) {
    for (const auto& child : children(r)) rows.push_back({r.spec.id, child, 0.0, {}});
  }
  return rows;
}

/// A column holding the member `m` of the child record.
template <typename Child, typename M>
Field<ChildRow<Child>> child(Column column, M Child::*m) {
  return field<ChildRow<Child>>(
      std::move(column), [m](auto& r) -> auto& { return r.value.*m; });
}

template <typename Child>
Field<ChildRow<Child>> trial_id_field() {
  return member(i64("trial_id"), &ChildRow<Child>::trial_id);
}

using EpochRow = ChildRow<EpochRecord>;
std::vector<Field<EpochRow>> epoch_fields() {
  return {trial_id_field<EpochRecord>(),
          child(i32("epoch", "1"), &EpochRecord::epoch),
          child(f64("train_loss", "1"), &EpochRecord::train_loss),
          child(f64("objective", "1"), &EpochRecord::objective),
          child(f64("energy_j", "J"), &EpochRecord::energy_j),
          child(f64("duration_s", "s"), &EpochRecord::duration_s),
          child(f64("train_energy_j", "J"), &EpochRecord::train_energy_j),
          child(f64("eval_energy_j", "J"), &EpochRecord::eval_energy_j)};
}

using LayerRow = ChildRow<LayerEnergy>;
std::vector<Field<LayerRow>> layer_fields() {
  return {trial_id_field<LayerEnergy>(), child(text("layer_type", 16), &LayerEnergy::type),
          child(f64("time_s", "s"), &LayerEnergy::time_s),
          derived<LayerRow>(f64("time_share", "1"), [](const LayerRow& r) { return r.share; }),
          child(f64("energy_j", "J"), &LayerEnergy::energy_j)};
}

using SampleRow = ChildRow<PowerSample>;
std::vector<Field<SampleRow>> sample_fields() {
  return {trial_id_field<PowerSample>(), member(text("meter", 16), &SampleRow::meter),
          child(f64("t_s", "s"), &PowerSample::t_s), child(f64("power_w", "W"), &PowerSample::power_w)};
}

std::vector<Field<IdleRecord>> idle_fields() {
  return {member(i32("rank"), &IdleRecord::rank), member(text("site"), &IdleRecord::site),
          member(f64("idle_s", "s"), &IdleRecord::idle_s), member(f64("energy_j", "J"), &IdleRecord::energy_j),
          member(f64("co2_g", "gCO2"), &IdleRecord::co2_g)};
}

/// /carbon/<site>: the intensity series a site was priced with (one NaN-time row for a constant).
std::vector<Field<carbon::TracePoint>> carbon_fields() {
  return {member(f64("unix_s", "s"), &carbon::TracePoint::unix_s),
          member(f64("intensity_g_per_kwh", "gCO2/kWh"), &carbon::TracePoint::intensity_g_per_kwh)};
}

std::vector<Field<study::SiteConfig>> site_fields() {
  return {member(text("name"), &study::SiteConfig::name), member(f64("pue", "1"), &study::SiteConfig::pue),
          derived<study::SiteConfig>(text("carbon_source", 128),
                                     [](const study::SiteConfig& s) { return s.carbon->describe(); }),
          member(f64("intensity_g_per_kwh", "gCO2/kWh"), &study::SiteConfig::intensity_g_per_kwh)};
}

/// /meters: written from the study's meter list (read by the report through the trials' columns).
struct MeterRow {
  std::string meter, kind, scope;
  std::int32_t primary = 0, apportioned = 0;
  std::string apportioned_by;
  double interval_s = 0.0, idle_baseline_s = 0.0;
};
std::vector<Field<MeterRow>> meter_fields() {
  return {member(text("meter", 16), &MeterRow::meter),
          member(text("kind", 16), &MeterRow::kind),
          member(text("scope", 16), &MeterRow::scope),
          member(i32("primary", "1"), &MeterRow::primary),
          member(i32("apportioned", "1"), &MeterRow::apportioned),
          member(text("apportioned_by", 16), &MeterRow::apportioned_by),
          member(f64("interval_s", "s"), &MeterRow::interval_s),
          member(f64("idle_baseline_s", "s"), &MeterRow::idle_baseline_s)};
}

Table epochs_table(const std::vector<TrialResult>& results) {
  return write_rows(epoch_fields(), child_rows<EpochRecord>(results, [](const TrialResult& r) { return r.epochs; }));
}

Table layers_table(const std::vector<TrialResult>& results) {
  std::vector<LayerRow> rows;
  for (const auto& r : results) {
    double total_s = 0.0;
    for (const auto& l : r.layers) total_s += l.time_s;
    for (const auto& l : r.layers) rows.push_back({r.spec.id, l, total_s > 0.0 ? l.time_s / total_s : 0.0, {}});
  }
  return write_rows(layer_fields(), rows);
}

/// One trial's /samples rows (none: the table's columns).
Table samples_table(const TrialResult* r) {
  std::vector<SampleRow> rows;
  if (r) {
    for (const auto& s : r->samples) {
      rows.push_back({r->spec.id, s, 0.0, s.meter < r->meters.size() ? r->meters[s.meter].meter : std::string("?")});
    }
  }
  return write_rows(sample_fields(), rows);
}

Table meters_table(const StudyMeta& meta) {
  std::vector<MeterRow> rows;
  for (std::size_t i = 0; i < meta.meters.size(); ++i) {
    const auto traits = energy::meter_traits(meta.meters[i]);
    rows.push_back({meta.meters[i], std::string(energy::to_string(traits.kind)),
                    std::string(energy::to_string(traits.scope)), i == 0, !traits.shared_by.empty(), traits.shared_by,
                    meta.meter_interval_s, meta.idle_baseline_s});
  }
  return write_rows(meter_fields(), rows);
}

Table carbon_table(const study::SiteConfig& site) {
  const auto points = site.carbon->points();
  std::vector<carbon::TracePoint> rows(points.begin(), points.end());
  if (rows.empty()) rows.push_back({std::nan(""), site.intensity_g_per_kwh});
  return write_rows(carbon_fields(), rows);
}

}  // namespace

ResultsStore::ResultsStore(std::string path, StudyMeta meta) : path_(std::move(path)), meta_(std::move(meta)) {
  h5::silence_error_stack();
  check_output_path(path_);
}

ResultsStore::~ResultsStore() {
  if (!samples_) return;
  samples_.reset();
  std::error_code ec;
  std::filesystem::remove(samples_path(), ec);
}

void ResultsStore::start_fresh() {
  syncer_.reset();  // its thread syncs the journal being replaced
  journal_ = Journal::create(journal_path(), meta_.study_toml);
  results_.clear();
  attempts_.clear();
  samples_.reset();  // opened with the first trial that has samples
  sample_rows_ = 0;
  std::error_code ec;
  std::filesystem::remove(samples_path(), ec);  // a killed run's
  flush();
}

void ResultsStore::open_samples() {
  samples_.reset(std::fopen(samples_path().c_str(), "w+b"));
  if (!samples_) {
    throw IoError(
        fmt::format("{}: cannot create the scratch file of power samples: {}", samples_path(), std::strerror(errno)));
  }
  sample_rows_ = 0;
}

void ResultsStore::spill_samples(TrialResult& r) {
  if (r.samples.empty()) return;
  if (!samples_) open_samples();
  const Table rows = samples_table(&r);
  const std::size_t bytes = rows.rows() * rows.row_size();
  if (std::fwrite(rows.data(), 1, bytes, samples_.get()) != bytes) {
    throw IoError(fmt::format("{}: cannot write power samples: {}", samples_path(), std::strerror(errno)));
  }
  sample_rows_ += rows.rows();
  r.samples.clear();
  r.samples.shrink_to_fit();
}

void ResultsStore::write_samples(h5::TableWriter& writer) {
  if (!samples_ || sample_rows_ == 0) return;
  std::FILE* f = samples_.get();
  if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0) {
    throw IoError(fmt::format("{}: cannot read power samples back: {}", samples_path(), std::strerror(errno)));
  }
  Table batch = samples_table(nullptr);
  constexpr std::size_t kRows = 65536;
  for (std::size_t done = 0; done < sample_rows_;) {
    const std::size_t n = std::min(kRows, sample_rows_ - done);
    batch.resize_rows(n);
    if (std::fread(batch.data(), batch.row_size(), n, f) != n) {
      throw IoError(fmt::format("{}: power samples end early", samples_path()));
    }
    writer.append(batch);
    done += n;
  }
  if (std::fseek(f, 0, SEEK_END) != 0) {
    throw IoError(fmt::format("{}: cannot append power samples: {}", samples_path(), std::strerror(errno)));
  }
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
  std::vector<TrialResult> results, attempts;
  if (fs::exists(journal_path())) {
    auto contents = read_journal(journal_path());
    refuse_other_study(contents.study_toml, journal_path());
    results = std::move(contents.results);
    attempts = std::move(contents.attempts);
    syncer_.reset();
    journal_ = Journal::reopen(journal_path(), contents.valid_bytes);
    report = {results.size(), contents.torn_bytes, journal_path()};
  } else if (fs::exists(path_)) {
    auto loaded = load_results(path_);
    refuse_other_study(loaded.study_toml, path_);
    results = std::move(loaded.trials);
    attempts = std::move(loaded.attempts);
    syncer_.reset();  // its thread syncs the journal being replaced
    journal_ = Journal::create(journal_path(), meta_.study_toml);
    for (const auto& a : attempts) journal_->append_attempt(a);
    for (const auto& r : results) journal_->append(r);
    journal_->sync();
    report = {results.size(), 0, path_};
  } else {
    start_fresh();
    return report;
  }
  // Interrupted trials run again: what they spent stays, as attempts.
  results_.clear();
  attempts_.clear();
  open_samples();
  for (auto& a : attempts) append_attempt_in_memory(a);
  for (auto& r : results) {
    if (r.status == search::TrialStatus::kInterrupted) {
      append_attempt_in_memory(r);
    } else {
      append_in_memory(r);
    }
  }
  report.recovered = results_.size();
  flush();
  return report;
}

void ResultsStore::append(TrialResult result) {
  if (journal_) journal_->append(result);  // whole, samples included: the durable record
  append_in_memory(result);
}

void ResultsStore::append_attempt(TrialResult attempt) {
  if (journal_) journal_->append_attempt(attempt);
  append_attempt_in_memory(attempt);
}

void ResultsStore::append_in_memory(TrialResult& result) {
  spill_samples(result);
  results_.push(result);
}

void ResultsStore::append_attempt_in_memory(TrialResult& attempt) {
  attempt.samples.clear();  // /attempts has no children
  attempts_.push(attempt);
}

namespace {
/// Trials decoded at a time while a checkpoint writes their rows.
constexpr std::size_t kBatch = 4096;
}  // namespace

void ResultsStore::for_each_result(const std::function<void(const TrialResult&)>& visit) const {
  for (std::size_t from = 0; from < results_.size(); from += kBatch) {
    for (const auto& r : results_.slice(from, from + kBatch)) visit(r);
  }
}

void ResultsStore::commit() {
  if (syncer_) {
    syncer_->wait(syncer_->request());  // after any sync in progress
  } else if (journal_) {
    journal_->sync();
  }
}

std::uint64_t ResultsStore::commit_async() {
  if (!journal_) return TrialSink::commit_async();
  if (!syncer_) syncer_ = std::make_unique<BackgroundSync>([this] { journal_->sync(); });
  return syncer_->request();
}

std::uint64_t ResultsStore::durable() { return syncer_ ? syncer_->done() : TrialSink::durable(); }

void ResultsStore::wait_durable(std::uint64_t ticket) {
  if (syncer_) syncer_->wait(ticket);
}

void ResultsStore::flush() {
  const std::string tmp = path_ + ".tmp";
  {
    h5::Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "creating " + tmp);
    h5::write_int_attribute(file.get(), "schema_version", kSchemaVersion);
    h5::write_string_attribute(file.get(), "study_toml", meta_.study_toml);
    for (const auto& [key, value] : meta_.provenance) h5::write_string_attribute(file.get(), key, value);
    // Every per-trial table is written a batch of trials at a time: a checkpoint never holds
    // all trials decoded, nor a whole table.
    const std::vector<TrialResult> none;
    h5::TableWriter trials(file.get(), "trials", trials_table(none, meta_.meters).columns());
    h5::TableWriter params(file.get(), "params", params_table(none, meta_.space).columns());
    h5::TableWriter epochs(file.get(), "epochs", epochs_table(none).columns());
    h5::TableWriter samples(file.get(), "samples", samples_table(nullptr).columns());
    h5::TableWriter layers(file.get(), "layers", layers_table(none).columns());
    for (std::size_t from = 0; from < results_.size(); from += kBatch) {
      const auto batch = results_.slice(from, from + kBatch);
      trials.append(trials_table(batch, meta_.meters));
      params.append(params_table(batch, meta_.space));
      epochs.append(epochs_table(batch));
      layers.append(layers_table(batch));
    }
    write_samples(samples);
    h5::TableWriter attempts(file.get(), "attempts", trials_table(none, meta_.meters).columns());
    for (std::size_t from = 0; from < attempts_.size(); from += kBatch) {
      attempts.append(trials_table(attempts_.slice(from, from + kBatch), meta_.meters));
    }
    h5::write_table(file.get(), "sites", write_rows(site_fields(), meta_.sites));
    h5::write_table(file.get(), "meters", meters_table(meta_));
    h5::write_table(file.get(), "idle", write_rows(idle_fields(), idle_));
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

h5::Table trials_table(const std::vector<TrialResult>& results, const std::vector<std::string>& meters) {
  return write_rows(trial_fields(meters), results);
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

namespace {

/// /sites with each site's carbon source rebuilt from /carbon/<site>: the series it was priced
/// with, held beyond its ends (a re-pricing may shift past them).
std::vector<study::SiteConfig> load_sites(hid_t file, const std::string& path,
                                          const std::vector<study::SiteConfig>& study_sites) {
  if (H5Lexists(file, "carbon", H5P_DEFAULT) <= 0) throw IoError(fmt::format("{}: no /carbon group", path));
  h5::Handle group(H5Gopen2(file, "carbon", H5P_DEFAULT), H5Gclose, "opening /carbon in " + path);
  auto sites = read_rows(site_fields(), h5::read_table(file, "sites"));
  for (auto& site : sites) {
    for (const auto& s : study_sites) {
      if (s.name == site.name) site.interpolation = s.interpolation;
    }
    auto points = read_rows(carbon_fields(), h5::read_table(group.get(), study::carbon_dataset_name(site.name)));
    if (points.empty() || std::isnan(points.front().unix_s)) {
      site.carbon = std::make_shared<carbon::ConstantCarbonSource>(site.intensity_g_per_kwh);
    } else {
      site.carbon = std::make_shared<carbon::TraceCarbonSource>(std::move(points), site.interpolation,
                                                                carbon::Extrapolation::kHold, site.name);
    }
  }
  return sites;
}

/// /params: one column per search parameter, typed as written.
void attach_params(const Table& params, const std::map<std::int64_t, std::size_t>& by_id,
                   std::vector<TrialResult>& trials) {
  const std::size_t id_column = params.column_index("trial_id");
  for (std::size_t row = 0; row < params.rows(); ++row) {
    const auto it = by_id.find(params.get_int(row, id_column));
    if (it == by_id.end()) continue;
    auto& spec = trials[it->second].spec;
    for (std::size_t c = 0; c < params.columns().size(); ++c) {
      if (c == id_column) continue;
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
}

/// Hands each child row to its trial (rows of trials not in /trials are dropped).
template <typename Child, typename Add>
void attach(const std::vector<ChildRow<Child>>& rows, const std::map<std::int64_t, std::size_t>& by_id,
            std::vector<TrialResult>& trials, Add add) {
  for (const auto& row : rows) {
    if (const auto it = by_id.find(row.trial_id); it != by_id.end()) add(trials[it->second], row);
  }
}

/// A table of trials (/trials, /attempts), its meters found from the energy_<meter>_j columns.
std::vector<TrialResult> read_trial_rows(const Table& table) {
  std::vector<std::string> meters;
  for (const auto& c : table.columns()) {
    if (c.name.starts_with("energy_") && c.name.ends_with("_j") && c.name != "energy_j") {
      meters.push_back(c.name.substr(7, c.name.size() - 9));
    }
  }
  return read_rows(trial_fields(meters), table);
}

/// /trials with their parameters, epochs, layer shares and power samples.
std::vector<TrialResult> load_trials(hid_t file) {
  auto trials = read_trial_rows(h5::read_table(file, "trials"));
  std::map<std::int64_t, std::size_t> by_id;
  for (std::size_t i = 0; i < trials.size(); ++i) by_id[trials[i].spec.id] = i;
  attach_params(h5::read_table(file, "params"), by_id, trials);
  attach(read_rows(epoch_fields(), h5::read_table(file, "epochs")), by_id, trials,
         [](TrialResult& t, const EpochRow& row) { t.epochs.push_back(row.value); });
  attach(read_rows(layer_fields(), h5::read_table(file, "layers")), by_id, trials,
         [](TrialResult& t, const LayerRow& row) { t.layers.push_back(row.value); });
  attach(read_rows(sample_fields(), h5::read_table(file, "samples")), by_id, trials,
         [](TrialResult& t, const SampleRow& row) {
           std::size_t index = 0;  // the record names its meter by index into the trial's meters
           while (index < t.meters.size() && t.meters[index].meter != row.meter) ++index;
           if (index == t.meters.size()) return;
           PowerSample sample = row.value;
           sample.meter = index;
           t.samples.push_back(sample);
         });
  return trials;
}

}  // namespace

namespace {
LoadedResults load_results_file(const std::string& path) {
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
  out.idle = read_rows(idle_fields(), h5::read_table(file.get(), "idle"));
  out.sites = load_sites(file.get(), path, study_sites);
  out.trials = load_trials(file.get());
  out.attempts = read_trial_rows(h5::read_table(file.get(), "attempts"));
  return out;
}
}  // namespace

namespace {

/// HDF5 1.10 is not robust against a corrupt file (found by fuzzing: damaged global heaps under
/// string attributes loop forever or crash inside H5HG_read), and a thread stuck or crashed
/// inside it cannot be unwound. So while a results file is read, a crash inside the read (SIGSEGV,
/// SIGBUS) and a read that outlasts its limit end the process with the error and exit 2. The
/// limit is 60 s plus 2 s per MiB, or CARBONSWEEP_READ_TIMEOUT seconds (1 to 86400).
class ReadGuard {
 public:
  explicit ReadGuard(const std::string& path) {
    const std::string crashed =
        fmt::format("carbonsweep: error: {}: HDF5 crashed reading the results file; the file is corrupt\n", path);
    std::snprintf(crash_message_, sizeof crash_message_, "%s", crashed.c_str());
    struct sigaction action {};
    action.sa_handler = on_crash;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous_segv_);
    sigaction(SIGBUS, &action, &previous_bus_);
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    double limit_s = 60.0 + 2.0 * static_cast<double>(ec ? 0 : bytes) / (1 << 20);
    if (const char* text = std::getenv("CARBONSWEEP_READ_TIMEOUT")) {
      const double v = std::atof(text);
      if (v >= 1.0 && v <= 86400.0) limit_s = v;
    }
    thread_ = std::jthread([this, path, limit_s](std::stop_token stop) {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, stop, std::chrono::duration<double>(limit_s), [] { return false; }) ||
          stop.stop_requested()) {
        return;
      }
      const auto message = fmt::format(
          "carbonsweep: error: {}: reading the results file did not finish in {:.0f} s; the file is corrupt "
          "(HDF5 can loop on a damaged one)\n",
          path, limit_s);
      [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message.data(), message.size());
      std::_Exit(2);
    });
  }
  ~ReadGuard() {
    thread_.request_stop();
    thread_.join();
    sigaction(SIGSEGV, &previous_segv_, nullptr);
    sigaction(SIGBUS, &previous_bus_, nullptr);
  }
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;

 private:
  static void on_crash(int) {
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, crash_message_, std::strlen(crash_message_));
    std::_Exit(2);
  }

  static inline char crash_message_[4200] = {};
  struct sigaction previous_segv_ {};
  struct sigaction previous_bus_ {};
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace

LoadedResults load_results(const std::string& path) {
  const ReadGuard guard(path);
  try {
    return load_results_file(path);
  } catch (const IoError& e) {
    if (std::string_view(e.what()).starts_with(path)) throw;
    throw IoError(fmt::format("{}: {}", path, e.what()));  // a table or column missing: say which file
  }
}

}  // namespace cs::io
