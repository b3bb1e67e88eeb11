// The coordinator's event loop.
#include "orchestrator/coordinator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "base/error.hpp"
#include "carbon/emissions.hpp"
#include "orchestrator/signals.hpp"

namespace cs::orchestrator {

Coordinator::Coordinator(Transport& transport, search::Sampler& sampler, io::TrialSink& store, ProgressSink& progress,
                         CoordinatorOptions options)
    : transport_(transport),
      sampler_(sampler),
      store_(store),
      progress_(progress),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : wall_clock_),
      fifo_(scheduling::make_policy({})),
      policy_(options_.policy ? *options_.policy : *fifo_) {
  for (std::int64_t id = 0; id < options_.budget_trials; ++id) todo_.push_back(id);
  if (options_.sites.empty()) options_.sites.push_back({"site", 1.0, nullptr});
}

scheduling::PlacementContext Coordinator::context(double now) const {
  scheduling::PlacementContext c;
  c.now_unix_s = now;
  c.idle = idle_;
  c.sites = options_.sites;
  c.trials_left = exhausted_ ? 0 : static_cast<std::int64_t>(todo_.size() - next_todo_);
  if (completed_ > 0) {
    c.expected_duration_s = completed_duration_s_ / static_cast<double>(completed_);
    c.expected_energy_j = completed_energy_j_ / static_cast<double>(completed_);
  }
  c.co2_committed_g = co2_done_g_ + running_co2_sum_g_;
  return c;
}

void Coordinator::end_idle(const scheduling::IdleWorker& worker, double now) {
  auto& record = idle_records_[worker.rank];
  record.rank = worker.rank;
  const auto& site = options_.sites[worker.site];
  record.site = site.name;
  const double clock_s = now - worker.idle_since_unix_s;
  if (!(clock_s > 0.0)) return;
  const double real_s = clock_s / clock_.scale();
  const double energy_j = options_.idle_power_w * real_s;
  record.idle_s += real_s;
  record.energy_j += energy_j;
  if (energy_j > 0.0 && site.source) {
    const int steps = std::clamp(static_cast<int>(clock_s / 300.0), 1, 64);
    const auto mean = carbon::forecast_mean(carbon::ForecastKind::kOracle, *site.source, now, worker.idle_since_unix_s,
                                            clock_s, steps);
    record.co2_g += mean ? carbon::co2_g(Joules{energy_j}, site.pue, *mean) : std::nan("");
  }
}

int Coordinator::dispatch(double& review_at) {
  review_at = std::numeric_limits<double>::infinity();
  if (idle_.empty()) return 0;
  const double now = clock_.now_unix_s();
  const bool work_left = !stopped_ && !exhausted_ && next_todo_ < todo_.size();
  scheduling::Placement placement;
  if (work_left) placement = policy_.place(context(now));
  review_at = placement.review_at_unix_s;
  int shut_down = 0;
  const auto release = [&](const scheduling::IdleWorker& w) {
    end_idle(w, now);
    if (on_ready(w.rank)) {
      const auto& site = options_.sites[w.site];
      // A site with no intensity now (outside its trace) cannot promise to fit a budget.
      const double intensity =
          site.source ? site.source->intensity_g_per_kwh(now).value_or(std::numeric_limits<double>::infinity()) : 0.0;
      const double expected_energy_j = completed_ > 0 ? completed_energy_j_ / static_cast<double>(completed_) : 0.0;
      const double co2 = carbon::co2_g(Joules{expected_energy_j}, site.pue, intensity);
      running_co2_g_[w.rank] = co2;
      running_co2_sum_g_ += co2;
    } else {
      ++shut_down;
    }
  };
  if (!work_left) {
    for (const auto& w : idle_) release(w);  // nothing more to run here: shut them down
    idle_.clear();
    return shut_down;
  }
  // The trials a stopping policy still fits in (a carbon budget) start before the stop.
  for (const int rank : placement.dispatch) {
    const auto it =
        std::find_if(idle_.begin(), idle_.end(), [&](const scheduling::IdleWorker& w) { return w.rank == rank; });
    if (it == idle_.end()) continue;
    const scheduling::IdleWorker w = *it;
    idle_.erase(it);
    release(w);
  }
  if (placement.stop) {
    stopped_ = true;
    summary_.stopped = placement.stop_reason;
    progress_.note("note: " + placement.stop_reason + "; no more trials are started");
  }
  if (stopped_ || exhausted_ || next_todo_ >= todo_.size()) {  // the last trials went out: the rest stop
    for (const auto& w : idle_) release(w);
    idle_.clear();
  }
  return shut_down;
}

void Coordinator::resume(const std::vector<io::TrialResult>& finished) {
  std::vector<const io::TrialResult*> ordered;
  for (const auto& r : finished) ordered.push_back(&r);
  std::sort(ordered.begin(), ordered.end(), [](auto a, auto b) { return a->spec.id < b->spec.id; });
  for (const auto* r : ordered) {
    std::erase(todo_, r->spec.id);
    count(*r);
    progress_.trial_resumed(*r);
  }
}

bool Coordinator::on_ready(int worker) {
  if (!stopped_ && !exhausted_ && next_todo_ < todo_.size()) {
    const std::int64_t id = todo_[next_todo_];
    if (auto spec = sampler_.suggest(id, pending_)) {
      ++next_todo_;
      pending_index_[spec->id] = pending_.size();
      pending_.push_back(*spec);
      transport_.send(worker, Assign{std::move(*spec)});
      progress_.trial_started();
      return true;
    }
    exhausted_ = true;
    progress_.note(fmt::format("note: the {} sampler has no more points at trial {}", sampler_.name(), id));
  }
  transport_.send(worker, Shutdown{"no more trials"});
  return false;
}

void Coordinator::on_epoch(int worker, const EpochReport& report) {
  if (!options_.pruner) return;  // the worker does not wait for an answer (protocol 3)
  const bool stop = options_.pruner->should_stop(report.trial_id, report.record.epoch, report.record.objective);
  transport_.send(worker, Decision{report.trial_id, stop});
}

void Coordinator::record(io::TrialResult& result) {
  if (result.status == search::TrialStatus::kPruned && result.epochs_done > 0) {
    // The epochs it did not run, priced at the completed trials' mean energy per epoch
    // (or its own, before any trial has completed).
    const double per_epoch_j = completed_epochs_ > 0
                                   ? completed_epoch_energy_j_ / static_cast<double>(completed_epochs_)
                                   : result.energy_j / result.epochs_done;
    result.pruning_saved_energy_j = per_epoch_j * std::max(0, options_.epochs_per_trial - result.epochs_done);
  }
  store_.append(result);
}

void Coordinator::count(const io::TrialResult& result) {
  if (const auto it = pending_index_.find(result.spec.id); it != pending_index_.end()) {
    // Swap-remove: a study with thousands of workers keeps thousands of trials pending.
    const std::size_t at = it->second;
    pending_index_.erase(it);
    if (at + 1 != pending_.size()) {
      pending_[at] = std::move(pending_.back());
      pending_index_[pending_[at].id] = at;
    }
    pending_.pop_back();
  }
  if (result.status == search::TrialStatus::kCompleted && result.epochs_done > 0) {
    completed_epoch_energy_j_ += result.energy_j;
    completed_epochs_ += result.epochs_done;
  }
  if (result.status == search::TrialStatus::kCompleted) {
    ++completed_;
    completed_energy_j_ += result.energy_j;
    completed_duration_s_ += (result.end_unix_s - result.start_unix_s) * clock_.scale();
  }
  if (std::isfinite(result.co2_g)) co2_done_g_ += result.co2_g;
  sampler_.observe({result.spec, result.status, result.objective, result.energy_j, result.co2_g});
  ++summary_.trials_done;
  if (result.status == search::TrialStatus::kFailed || result.status == search::TrialStatus::kDiverged) {
    ++summary_.trials_failed;
  }
}

std::vector<Envelope> Coordinator::take_batch(double review_at) {
  // Take what has arrived; results in one batch share one fsync (group commit). Wake up when a
  // deferral the policy asked for ends.
  std::vector<Envelope> batch;
  auto wait = options_.idle_wait;
  if (std::isfinite(review_at)) wait = std::min(wait, clock_.wait_for(review_at - clock_.now_unix_s()));
  if (auto first = transport_.receive(wait)) batch.push_back(std::move(*first));
  while (!batch.empty() && batch.size() < 256) {
    auto more = transport_.receive(std::chrono::milliseconds(0));
    if (!more) break;
    batch.push_back(std::move(*more));
  }
  return batch;
}

int Coordinator::handle(Envelope& envelope) {
  const int source = envelope.source;
  int left = 0;
  const auto becomes_idle = [&] {
    const auto site = options_.worker_site.find(source);
    idle_.push_back({source, site == options_.worker_site.end() ? 0 : site->second, clock_.now_unix_s()});
  };
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Ready>) {
          becomes_idle();
        } else if constexpr (std::is_same_v<T, ResultReport>) {
          if (const auto it = running_co2_g_.find(source); it != running_co2_g_.end()) {
            running_co2_sum_g_ -= it->second;
            running_co2_g_.erase(it);
          }
          count(m.result);
          progress_.trial_finished(m.result);
          becomes_idle();  // a result is also the worker's request for the next trial
        } else if constexpr (std::is_same_v<T, Goodbye>) {
          left = 1;
          std::erase_if(idle_, [&](const scheduling::IdleWorker& w) { return w.rank == source; });
          summary_.notes.push_back(fmt::format("rank {} left the study: {}", m.rank, m.reason));
          progress_.note("warning: " + summary_.notes.back());
        } else if constexpr (std::is_same_v<T, EpochReport>) {
          on_epoch(source, m);
        } else {
          throw MpiError(fmt::format("coordinator: unexpected message from rank {}", source));
        }
      },
      envelope.message);
  return left;
}

void Coordinator::check_stop_signal() {
  if (summary_.interrupted || !options_.stop_signal) return;
  if (const int signal = options_.stop_signal()) {
    summary_.interrupted = stopped_ = true;
    summary_.stopped = fmt::format("interrupted by {}", signal_name(signal));
    progress_.note(fmt::format("note: {}: no more trials are started; the {} running finish and are kept",
                               summary_.stopped, pending_.size()));
    store_.flush();
  }
}

CoordinatorSummary Coordinator::run() {
  const auto worker_count = static_cast<std::int64_t>(options_.workers.size());
  const auto remaining = static_cast<std::int64_t>(todo_.size());
  if (worker_count > remaining) {
    progress_.note(fmt::format("note: {} workers for {} trials; {} worker(s) will exit without work", worker_count,
                               remaining, worker_count - remaining));
  }
  std::int64_t active = worker_count;
  auto last_checkpoint = std::chrono::steady_clock::now();
  double review_at = std::numeric_limits<double>::infinity();
  while (active > 0) {
    auto batch = take_batch(review_at);
    bool any_result = false;
    for (auto& e : batch) {
      if (auto* r = std::get_if<ResultReport>(&e.message)) {
        record(r->result);
        any_result = true;
      }
    }
    if (any_result) store_.commit();  // durable before any of them counts as done
    for (auto& envelope : batch) active -= handle(envelope);
    check_stop_signal();
    active -= dispatch(review_at);
    if (any_result && std::chrono::steady_clock::now() - last_checkpoint >= options_.checkpoint) {
      store_.flush();
      last_checkpoint = std::chrono::steady_clock::now();
    }
  }
  for (const auto& [rank, record] : idle_records_) summary_.idle.push_back(record);
  store_.set_idle(summary_.idle);
  store_.flush();
  return summary_;
}

}  // namespace cs::orchestrator
