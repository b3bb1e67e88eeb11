// Exports.
#include "io/export.hpp"

#include <cmath>
#include <ctime>
#include <fstream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/units.hpp"
#include "io/results_store.hpp"

namespace cs::io {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) { return std::isnan(v) ? "" : fmt::format("{}", v); }

std::string iso_time(double unix_s) {
  const auto t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return text;
}

std::ofstream open_output(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw IoError(fmt::format("{}: cannot write the export", path));
  return out;
}

}  // namespace

std::size_t export_csv(const std::string& results_path, const std::string& out_path) {
  const auto results = load_results(results_path);
  auto out = open_output(out_path);
  std::vector<std::string> params, meters;
  if (!results.trials.empty()) {
    for (const auto& p : results.trials.front().spec.params) params.push_back(p.name);
    for (const auto& m : results.trials.front().meters) meters.push_back(m.meter);
  }
  // Every /trials column, as the results file holds it, then every parameter.
  const auto table = trials_table(results.trials, meters);
  const auto& columns = table.columns();
  for (std::size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << columns[c].name;
  for (const auto& p : params) out << ',' << csv_field(p);
  out << '\n';
  for (std::size_t row = 0; row < table.rows(); ++row) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c) out << ',';
      switch (columns[c].type) {
        case h5::ColumnType::kString: out << csv_field(table.get_string(row, c)); break;
        case h5::ColumnType::kFloat64: out << number(table.get_double(row, c)); break;
        default: out << table.get_int(row, c);
      }
    }
    for (const auto& p : results.trials[row].spec.params) out << ',' << csv_field(search::to_string(p.value));
    out << '\n';
  }
  if (!out.flush()) throw IoError(fmt::format("{}: write failed", out_path));
  return results.trials.size();
}

std::size_t export_codecarbon(const std::string& results_path, const std::string& out_path) {
  const auto results = load_results(results_path);
  auto out = open_output(out_path);
  out << "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,"
         "gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
         "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
         "ram_total_size,tracking_mode,on_cloud,pue\n";
  const std::string& project = results.study_name;
  for (const auto& r : results.trials) {
    const double duration_s = r.end_unix_s - r.start_unix_s;
    const double emissions_kg = r.co2_g / 1000.0;
    const double device_kwh = r.energy_j / kJoulesPerKwh;
    const double facility_kwh = r.facility_energy_j / kJoulesPerKwh;
    const double power_w = duration_s > 0 ? r.energy_j / duration_s : 0.0;
    // As in CodeCarbon: the device columns hold device energy (cpu_energy = cpu_power x
    // duration), energy_consumed the total with PUE applied. All device energy goes to the CPU
    // columns, as the estimate meter does not split CPU from RAM.
    out << iso_time(r.end_unix_s) << ',' << csv_field(project) << ',' << csv_field(fmt::format("trial-{}", r.spec.id))
        << ',' << number(duration_s) << ',' << number(emissions_kg) << ','
        << number(duration_s > 0 ? emissions_kg / duration_s : 0.0) << ',' << number(power_w) << ",0,0,"
        << number(device_kwh) << ",0,0," << number(facility_kwh) << ',' << csv_field(r.site) << ",,,,,"
        << "Linux,,carbonsweep,,,,,,,,"
        << "machine,N," << number(r.pue) << '\n';
  }
  if (!out.flush()) throw IoError(fmt::format("{}: write failed", out_path));
  return results.trials.size();
}

}  // namespace cs::io
