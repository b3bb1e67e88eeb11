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
  const auto now = std::chrono::steady_clock::now();
  for (const int w : options_.workers) {
    active_.insert(w);
    last_heard_[w] = now;
  }
}

bool Coordinator::work_left() const {
  return !stopped_ && (!reruns_.empty() || (!exhausted_ && next_todo_ < todo_.size()));
}

bool Coordinator::keep_idle_workers() const {
  // A running trial may come back to run again (its worker lost, or a retry): keep a worker for it.
  return !stopped_ && !running_.empty() && active_.size() > 1;
}

scheduling::PlacementContext Coordinator::context(double now) const {
  scheduling::PlacementContext c;
  c.now_unix_s = now;
  c.idle = idle_;
  c.sites = options_.sites;
  c.trials_left = static_cast<std::int64_t>(reruns_.size()) +
                  (exhausted_ ? 0 : static_cast<std::int64_t>(todo_.size() - next_todo_));
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

void Coordinator::dispatch(double& review_at) {
  review_at = std::numeric_limits<double>::infinity();
  if (idle_.empty()) return;
  const double now = clock_.now_unix_s();
  scheduling::Placement placement;
  const bool any_work = work_left();
  if (any_work) placement = policy_.place(context(now));
  review_at = placement.review_at_unix_s;
  const auto release = [&](const scheduling::IdleWorker& w) {
    end_idle(w, now);
    if (on_ready(w.rank)) {  // else it was shut down
      const auto& site = options_.sites[w.site];
      // A site with no intensity now (outside its trace) cannot promise to fit a budget.
      const double intensity =
          site.source ? site.source->intensity_g_per_kwh(now).value_or(std::numeric_limits<double>::infinity()) : 0.0;
      const double expected_energy_j = completed_ > 0 ? completed_energy_j_ / static_cast<double>(completed_) : 0.0;
      const double co2 = carbon::co2_g(Joules{expected_energy_j}, site.pue, intensity);
      running_co2_g_[w.rank] = co2;
      running_co2_sum_g_ += co2;
    }
  };
  if (!any_work) {
    if (keep_idle_workers()) return;
    for (const auto& w : idle_) release(w);  // nothing more to run here: shut them down
    idle_.clear();
    return;
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
  if (!work_left() && !keep_idle_workers()) {  // the last trials went out: the rest stop
    for (const auto& w : idle_) release(w);
    idle_.clear();
  }
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
  if (!stopped_) {
    if (auto rerun = take_rerun(worker)) {
      assign(worker, std::move(rerun->spec), rerun->attempt);
      return true;
    }
  }
  if (!stopped_ && !exhausted_ && next_todo_ < todo_.size()) {
    const std::int64_t id = todo_[next_todo_];
    if (auto spec = sampler_.suggest(id, pending_)) {
      ++next_todo_;
      pending_index_[spec->id] = pending_.size();
      pending_.push_back(*spec);
      assign(worker, std::move(*spec), 1);
      return true;
    }
    exhausted_ = true;
    progress_.note(fmt::format("note: the {} sampler has no more points at trial {}", sampler_.name(), id));
  }
  transport_.send(worker, Shutdown{"no more trials"});
  active_.erase(worker);
  return false;
}

void Coordinator::assign(int worker, search::TrialSpec spec, std::int32_t attempt) {
  running_[worker] = {spec, attempt, std::chrono::steady_clock::now(), 0, 0.0, 0.0, false};
  transport_.send(worker, Assign{std::move(spec), attempt});
  progress_.trial_started();
}

std::optional<Coordinator::Rerun> Coordinator::take_rerun(int worker) {
  if (reruns_.empty()) return std::nullopt;
  auto it = std::find_if(reruns_.begin(), reruns_.end(), [&](const Rerun& r) { return r.avoid != worker; });
  if (it == reruns_.end()) {
    // Only reruns that avoid this worker: it takes one when no other worker is idle to do it.
    const bool other_idle = std::any_of(idle_.begin(), idle_.end(), [&](const auto& w) { return w.rank != worker; });
    if (other_idle) return std::nullopt;
    it = reruns_.begin();
  }
  Rerun rerun = std::move(*it);
  reruns_.erase(it);
  return rerun;
}

void Coordinator::on_epoch(int worker, const EpochReport& report) {
  // The trial's own epochs only: with assign_before_commit the worker's next trial may already
  // be running when the last epoch of its previous one is handled (same batch as its result).
  if (const auto it = running_.find(worker); it != running_.end() && it->second.spec.id == report.trial_id) {
    ++it->second.epochs;
    it->second.epochs_s += report.record.duration_s;
  }
  if (!options_.pruner) return;  // the worker does not wait for an answer (protocol 3)
  const bool stop = options_.pruner->should_stop(report.trial_id, report.record.epoch, report.record.objective);
  transport_.send(worker, Decision{report.trial_id, stop});
}

Coordinator::Fate Coordinator::accept(int worker, io::TrialResult& result) {
  const auto it = running_.find(worker);
  if (it == running_.end() || it->second.spec.id != result.spec.id) return Fate::kIgnored;  // lost, then came back
  result.stall_s = it->second.stall_s;
  if (result.status == search::TrialStatus::kPruned && result.epochs_done > 0) {
    // The epochs it did not run, priced at the completed trials' mean energy per epoch
    // (or its own, before any trial has completed).
    const double per_epoch_j = completed_epochs_ > 0
                                   ? completed_epoch_energy_j_ / static_cast<double>(completed_epochs_)
                                   : result.energy_j / result.epochs_done;
    result.pruning_saved_energy_j = per_epoch_j * std::max(0, options_.epochs_per_trial - result.epochs_done);
  }
  const bool retry =
      (result.status == search::TrialStatus::kFailed || result.status == search::TrialStatus::kTimeout) &&
      result.attempt <= options_.retries && !stopped_;
  if (retry) {
    store_.append_attempt(result);
    return Fate::kRetry;
  }
  store_.append(result);
  return Fate::kFinal;
}

void Coordinator::on_result(int worker, io::TrialResult& result, Fate fate, bool released) {
  if (fate == Fate::kIgnored) {
    progress_.note(fmt::format("note: rank {} sent trial {} after it was declared lost; the result is not kept", worker,
                               result.spec.id));
    return;
  }
  if (!released) release(worker, result, fate);
  if (fate == Fate::kRetry) return;
  count(result);
  progress_.trial_finished(result);
}

void Coordinator::release(int worker, const io::TrialResult& result, Fate fate) {
  running_.erase(worker);
  if (const auto it = running_co2_g_.find(worker); it != running_co2_g_.end()) {
    running_co2_sum_g_ -= it->second;
    running_co2_g_.erase(it);
  }
  if (fate == Fate::kRetry) {
    ++summary_.retried;
    reruns_.push_back({result.spec, result.attempt + 1, worker});
    progress_.trial_requeued(&result);
    progress_.note(fmt::format("note: trial {} {} on rank {} (attempt {} of {}); it runs again", result.spec.id,
                               search::to_string(result.status), worker, result.attempt, options_.retries + 1));
  }
}

void Coordinator::make_idle(int worker) {
  const auto site = options_.worker_site.find(worker);
  idle_.push_back({worker, site == options_.worker_site.end() ? 0 : site->second, clock_.now_unix_s()});
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
  if (result.status == search::TrialStatus::kInterrupted) return;  // unfinished: --resume runs it again
  sampler_.observe({result.spec, result.status, result.objective, result.energy_j, result.co2_g});
  ++summary_.trials_done;
  if (search::is_failure(result.status)) ++summary_.trials_failed;
}

void Coordinator::count_durable() {
  if (awaiting_durable_.empty()) return;
  const auto durable = store_.durable();
  while (!awaiting_durable_.empty() && awaiting_durable_.front().ticket <= durable) {
    handle(awaiting_durable_.front().envelope, awaiting_durable_.front().fate, true);
    awaiting_durable_.pop_front();
  }
}

std::vector<Envelope> Coordinator::take_batch(double review_at) {
  // Take what has arrived; results in one batch share one fsync (group commit). Wake up when a
  // deferral the policy asked for ends, and soon while results wait for their fsync.
  std::vector<Envelope> batch;
  auto wait = awaiting_durable_.empty() ? options_.idle_wait : std::min(options_.idle_wait, kDurableCheck);
  if (std::isfinite(review_at)) wait = std::min(wait, clock_.wait_for(review_at - clock_.now_unix_s()));
  if (auto first = transport_.receive(wait)) batch.push_back(std::move(*first));
  while (!batch.empty() && batch.size() < 256) {
    auto more = transport_.receive(std::chrono::milliseconds(0));
    if (!more) break;
    batch.push_back(std::move(*more));
  }
  return batch;
}

void Coordinator::handle(Envelope& envelope, Fate fate, bool released) {
  const int source = envelope.source;
  // Lost (or already shut down): nothing it says counts now, but a result released before the
  // commit was accepted, and its worker may have been shut down since for want of work.
  if (!active_.contains(source) && !released) return;
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Ready>) {
          make_idle(source);
        } else if constexpr (std::is_same_v<T, ResultReport>) {
          on_result(source, m.result, fate, released);
          if (!released) make_idle(source);  // a result is also the worker's request for the next trial
        } else if constexpr (std::is_same_v<T, Goodbye>) {
          active_.erase(source);
          std::erase_if(idle_, [&](const scheduling::IdleWorker& w) { return w.rank == source; });
          summary_.notes.push_back(fmt::format("rank {} left the study: {}", m.rank, m.reason));
          progress_.note("warning: " + summary_.notes.back());
        } else if constexpr (std::is_same_v<T, EpochReport>) {
          on_epoch(source, m);
        } else if constexpr (std::is_same_v<T, Heartbeat>) {
          // heard_from() is all a heartbeat is for
        } else if constexpr (std::is_same_v<T, Signalled>) {
          on_signal(m.signal);
        } else {
          throw MpiError(fmt::format("coordinator: unexpected message from rank {}", source));
        }
      },
      envelope.message);
}

void Coordinator::heard_from(int worker) {
  const auto now = std::chrono::steady_clock::now();
  auto& last = last_heard_[worker];
  const auto silence = now - last;
  last = now;
  const auto beyond = silence - options_.heartbeat_interval;
  if (silence < 2 * options_.heartbeat_interval) return;  // ordinary jitter
  const double stall_s = std::chrono::duration<double>(beyond).count();
  const auto it = running_.find(worker);
  if (it != running_.end()) it->second.stall_s += stall_s;
  if (stall_s >= 5.0) {
    progress_.note(fmt::format(
        "warning: rank {} was silent for {:.1f} s (stopped, swapping or frozen){}", worker,
        std::chrono::duration<double>(silence).count(),
        it != running_.end() ? fmt::format("; trial {} records the stall", it->second.spec.id) : std::string()));
  }
}

void Coordinator::lose(int worker, const std::string& why) {
  active_.erase(worker);
  summary_.lost.push_back(worker);
  std::erase_if(idle_, [&](const scheduling::IdleWorker& w) { return w.rank == worker; });
  std::string what = "it had no trial";
  if (const auto it = running_.find(worker); it != running_.end()) {
    if (!stopped_) {
      reruns_.push_front({it->second.spec, it->second.attempt, worker});
      ++summary_.requeued;
      what = fmt::format("its trial {} runs again on another worker", it->second.spec.id);
    } else {
      what = fmt::format("its trial {} is not recorded; --resume runs it", it->second.spec.id);
    }
    running_.erase(it);
    progress_.trial_requeued(nullptr);
    if (const auto c = running_co2_g_.find(worker); c != running_co2_g_.end()) {
      running_co2_sum_g_ -= c->second;
      running_co2_g_.erase(c);
    }
  }
  summary_.notes.push_back(fmt::format("rank {} was lost ({}); {}", worker, why, what));
  progress_.note("warning: " + summary_.notes.back());
}

void Coordinator::check_heartbeats() {
  const auto now = std::chrono::steady_clock::now();
  // Every half interval is often enough, and keeps a batch O(1) with thousands of workers.
  if (now - last_heartbeat_check_ < options_.heartbeat_interval / 2) return;
  last_heartbeat_check_ = now;
  std::vector<int> silent;
  for (const int w : active_) {
    if (now - last_heard_[w] >= options_.heartbeat_timeout) silent.push_back(w);
  }
  for (const int w : silent) {
    lose(w, fmt::format("no heartbeat for {:.0f} s, [faults] heartbeat_timeout",
                        std::chrono::duration<double>(now - last_heard_[w]).count()));
  }
}

void Coordinator::interrupt(int worker) {
  auto& trial = running_.at(worker);
  if (trial.interrupted) return;
  trial.interrupted = true;
  transport_.send(worker, Interrupt{trial.spec.id});
}

bool Coordinator::fits_grace(const Running& trial) const {
  if (!grace_deadline_ || trial.epochs == 0) return false;  // no epoch yet: no basis to promise it ends
  const double per_epoch_s = trial.epochs_s / trial.epochs;
  const double left_s = per_epoch_s * std::max(0, options_.epochs_per_trial - trial.epochs);
  return std::chrono::steady_clock::now() + std::chrono::duration<double>(left_s) < *grace_deadline_;
}

void Coordinator::on_signal(int signal) {
  const bool terminate = ends_trials(signal);
  if (ends_trials(signal_) || signal_ == signal) return;  // already acted on
  signal_ = signal;
  const auto now = std::chrono::steady_clock::now();
  summary_.interrupted = stopped_ = true;
  summary_.stopped = fmt::format("interrupted by {}", signal_name(signal));
  reruns_.clear();  // what was to run again is run by --resume
  if (terminate) {
    interrupt_deadline_ = now + options_.interrupt_wait;
    for (const auto& [worker, trial] : running_) interrupt(worker);
    progress_.note(
        fmt::format("note: {}: no more trials are started; the {} running stop at their next step and "
                    "are kept as interrupted",
                    summary_.stopped, running_.size()));
  } else {
    grace_deadline_ = now + options_.grace;
    int finishing = 0;
    for (auto& [worker, trial] : running_) {
      if (fits_grace(trial)) {
        ++finishing;
      } else {
        interrupt(worker);
      }
    }
    progress_.note(fmt::format(
        "note: {}: no more trials are started; {} of the {} running can end within {:.0f} s "
        "and finish, the rest are interrupted",
        summary_.stopped, finishing, running_.size(), std::chrono::duration<double>(options_.grace).count()));
  }
  store_.flush();
}

void Coordinator::check_deadlines() {
  const auto now = std::chrono::steady_clock::now();
  if (grace_deadline_ && now >= *grace_deadline_) {
    std::vector<int> late;
    for (const auto& [worker, trial] : running_) late.push_back(worker);
    for (const int w : late) interrupt(w);
    interrupt_deadline_ = now + options_.interrupt_wait;  // now the interrupted results are awaited
    grace_deadline_.reset();
  }
  if (interrupt_deadline_ && now >= *interrupt_deadline_) {
    std::vector<int> late;
    for (const auto& [worker, trial] : running_) late.push_back(worker);
    for (const int w : late) lose(w, "did not answer the interrupt in time");
    interrupt_deadline_.reset();
  }
}

void Coordinator::check_stop_signal() {
  if (!options_.stop_signal) return;
  if (const int signal = options_.stop_signal()) on_signal(signal);
}

CoordinatorSummary Coordinator::run() {
  const auto worker_count = static_cast<std::int64_t>(options_.workers.size());
  const auto remaining = static_cast<std::int64_t>(todo_.size());
  if (worker_count > remaining) {
    progress_.note(fmt::format("note: {} workers for {} trials; {} worker(s) will exit without work", worker_count,
                               remaining, worker_count - remaining));
  }
  auto last_checkpoint = std::chrono::steady_clock::now();
  double review_at = std::numeric_limits<double>::infinity();
  while (!active_.empty() || !awaiting_durable_.empty()) {
    auto batch = take_batch(review_at);
    std::vector<Fate> fates(batch.size(), Fate::kFinal);
    for (const auto& e : batch) {
      if (active_.contains(e.source)) heard_from(e.source);  // first: a stall before a result is the trial's
    }
    bool any_result = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (auto* r = std::get_if<ResultReport>(&batch[i].message); r && active_.contains(batch[i].source)) {
        fates[i] = accept(batch[i].source, r->result);
        any_result = true;
      }
    }
    std::vector<char> released(batch.size(), 0);
    if (any_result && options_.assign_before_commit) {  // the next trials go out, then the fsync
      check_stop_signal();                              // none after a stop signal
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto* r = std::get_if<ResultReport>(&batch[i].message);
        if (!r || fates[i] == Fate::kIgnored || !active_.contains(batch[i].source)) continue;
        release(batch[i].source, r->result, fates[i]);
        make_idle(batch[i].source);
        released[i] = 1;
      }
      dispatch(review_at);
    }
    // Durable before any of them counts as done. Released results wait for their fsync, which
    // runs on the store's thread while this one serves the workers: their next results join the
    // next fsync (group commit).
    std::uint64_t ticket = 0;
    if (any_result && options_.assign_before_commit) {
      ticket = store_.commit_async();
    } else if (any_result) {
      store_.commit();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (released[i]) {
        awaiting_durable_.push_back({std::move(batch[i]), fates[i], ticket});
      } else {
        handle(batch[i], fates[i], false);
      }
    }
    count_durable();
    check_stop_signal();
    check_heartbeats();
    check_deadlines();
    dispatch(review_at);
    if (any_result && std::chrono::steady_clock::now() - last_checkpoint >= options_.checkpoint) {
      store_.flush();
      last_checkpoint = std::chrono::steady_clock::now();
    }
  }
  for (const auto& [rank, record] : idle_records_) summary_.idle.push_back(record);
  store_.set_idle(summary_.idle);
  if (options_.before_final_flush) options_.before_final_flush();
  store_.flush();
  return summary_;
}

}  // namespace cs::orchestrator
