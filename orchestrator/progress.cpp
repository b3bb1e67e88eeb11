// Progress reporting.
#include "orchestrator/progress.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "base/units.hpp"

namespace cs::orchestrator {

ProgressStyle auto_progress_style(bool stderr_is_tty) {
  if (stderr_is_tty) return ProgressStyle::kTty;
  if (const char* text = std::getenv("CARBONSWEEP_PROGRESS")) {
    if (const auto style = enum_from_name(kProgressStyleNames, text)) return *style;
  }
  return ProgressStyle::kLines;
}

Progress::Progress(std::ostream& out, std::int64_t total, ProgressStyle style, std::chrono::milliseconds interval)
    : out_(out), total_(total), style_(style), interval_(interval), start_(std::chrono::steady_clock::now()) {
  last_line_ = start_;
}

void Progress::trial_started() {
  ++running_;
  if (style_ == ProgressStyle::kTty) draw();
}

void Progress::trial_finished(const io::TrialResult& r) {
  --running_;
  draw(add(r));
}

void Progress::trial_requeued(const io::TrialResult* attempt) {
  --running_;
  if (attempt) {
    facility_energy_j_ += attempt->facility_energy_j;
    if (std::isfinite(attempt->co2_g)) co2_g_ += attempt->co2_g;
  }
  if (style_ == ProgressStyle::kTty) draw();
}

void Progress::trial_resumed(const io::TrialResult& r) {
  ++resumed_;
  add(r);
}

bool Progress::add(const io::TrialResult& r) {
  ++done_;
  if (search::is_failure(r.status)) ++failed_;  // interrupted is not a failure: --resume runs it
  facility_energy_j_ += r.facility_energy_j;
  if (std::isfinite(r.co2_g)) co2_g_ += r.co2_g;
  if (r.status != search::TrialStatus::kCompleted || !(r.objective > best_objective_)) return false;
  best_objective_ = r.objective;
  best_trial_ = r.spec.id;
  return true;
}

void Progress::note(const std::string& text) {
  if (style_ == ProgressStyle::kTty) out_ << "\r\033[K";
  out_ << text << '\n';
  if (style_ == ProgressStyle::kTty) draw();
  out_.flush();
}

std::string Progress::line() const {
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::int64_t done_here = done_ - resumed_;  // the rate counts this run's trials only
  const std::string eta =
      done_here == 0
          ? "?"
          : format_duration(elapsed_s / static_cast<double>(done_here) * static_cast<double>(total_ - done_));
  const std::string best = best_trial_ < 0 ? "-" : fmt::format("{:.4f} (trial {})", best_objective_, best_trial_);
  return fmt::format("[{}/{}] running {} failed {} | best {} | {:.6f} kWh | {:.4f} gCO2 | elapsed {} | ETA {}", done_,
                     total_, running_, failed_, best, facility_energy_j_ / kJoulesPerKwh, co2_g_,
                     format_duration(elapsed_s), eta);
}

void Progress::draw(bool new_best) {
  switch (style_) {
    case ProgressStyle::kOff: return;
    case ProgressStyle::kTty: out_ << "\r\033[K" << line(); break;
    case ProgressStyle::kLines: {
      const auto now = std::chrono::steady_clock::now();
      if (!new_best && now - last_line_ < interval_) {
        printed_since_last_event_ = false;
        return;
      }
      last_line_ = now;
      printed_since_last_event_ = true;
      out_ << line() << '\n';
      break;
    }
  }
  out_.flush();
}

void Progress::close() {
  if (style_ == ProgressStyle::kTty) out_ << '\n';
  if (style_ == ProgressStyle::kLines && !printed_since_last_event_) out_ << line() << '\n';  // where it ended
  out_.flush();
}

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::max(seconds, 0.0) + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string site_summary(const std::vector<io::TrialResult>& results) {
  return site_summary([&](const std::function<void(const io::TrialResult&)>& visit) {
    for (const auto& r : results) visit(r);
  });
}

std::string site_summary(const std::function<void(const std::function<void(const io::TrialResult&)>&)>& each) {
  struct Totals {
    int trials = 0, failed = 0;
    double device_j = 0, facility_j = 0, co2_g = 0, best = -std::numeric_limits<double>::infinity();
  };
  std::map<std::string, Totals> sites;
  each([&](const io::TrialResult& r) {
    auto& t = sites[r.site];
    ++t.trials;
    if (search::is_failure(r.status)) ++t.failed;
    t.device_j += r.energy_j;
    t.facility_j += r.facility_energy_j;
    t.co2_g += r.co2_g;
    if (r.status == search::TrialStatus::kCompleted) t.best = std::max(t.best, r.objective);
  });
  std::string out = fmt::format("{:<16} {:>6} {:>6} {:>14} {:>16} {:>10} {:>9}\n", "site", "trials", "failed",
                                "device [kWh]", "facility [kWh]", "CO2 [g]", "best");
  for (const auto& [name, t] : sites) {
    out += fmt::format("{:<16} {:>6} {:>6} {:>14.6f} {:>16.6f} {:>10.4f} {:>9}\n", name, t.trials, t.failed,
                       t.device_j / kJoulesPerKwh, t.facility_j / kJoulesPerKwh, t.co2_g,
                       !std::isfinite(t.best) ? std::string("-") : fmt::format("{:.4f}", t.best));
  }
  return out;
}

}  // namespace cs::orchestrator
