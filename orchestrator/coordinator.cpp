// The coordinator's event loop.
#include "orchestrator/coordinator.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "errors/error.hpp"

namespace cs::orchestrator {

Coordinator::Coordinator(Transport& transport, search::Sampler& sampler, io::ResultsStore& store, Progress& progress,
                         CoordinatorOptions options)
    : transport_(transport), sampler_(sampler), store_(store), progress_(progress), options_(std::move(options)) {
  for (std::int64_t id = 0; id < options_.budget_trials; ++id) todo_.push_back(id);
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
  if (!exhausted_ && next_todo_ < todo_.size()) {
    const std::int64_t id = todo_[next_todo_];
    if (auto spec = sampler_.suggest(id, pending_)) {
      ++next_todo_;
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
  const bool stop =
      options_.pruner && options_.pruner->should_stop(report.trial_id, report.record.epoch, report.record.objective);
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
  std::erase_if(pending_, [&](const search::TrialSpec& s) { return s.id == result.spec.id; });
  if (result.status == search::TrialStatus::kCompleted && result.epochs_done > 0) {
    completed_epoch_energy_j_ += result.energy_j;
    completed_epochs_ += result.epochs_done;
  }
  sampler_.observe({result.spec, result.status, result.objective, result.energy_j, result.co2_g});
  ++summary_.trials_done;
  if (result.status == search::TrialStatus::kFailed || result.status == search::TrialStatus::kDiverged) {
    ++summary_.trials_failed;
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
  std::vector<Envelope> batch;
  while (active > 0) {
    // Take what has arrived; results in one batch share one fsync (group commit).
    batch.clear();
    if (auto first = transport_.receive(std::chrono::milliseconds(1000))) batch.push_back(std::move(*first));
    while (!batch.empty() && batch.size() < 256) {
      auto more = transport_.receive(std::chrono::milliseconds(0));
      if (!more) break;
      batch.push_back(std::move(*more));
    }
    bool any_result = false;
    for (auto& e : batch) {
      if (auto* r = std::get_if<ResultReport>(&e.message)) {
        record(r->result);
        any_result = true;
      }
    }
    if (any_result) store_.commit();  // durable before any of them counts as done
    for (auto& envelope : batch) {
      const int source = envelope.source;
      std::visit(
          [&](auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Ready>) {
              if (!on_ready(source)) --active;
            } else if constexpr (std::is_same_v<T, ResultReport>) {
              count(m.result);
              progress_.trial_finished(m.result);
            } else if constexpr (std::is_same_v<T, Goodbye>) {
              --active;
              summary_.notes.push_back(fmt::format("rank {} left the study: {}", m.rank, m.reason));
              progress_.note("warning: " + summary_.notes.back());
            } else if constexpr (std::is_same_v<T, EpochReport>) {
              on_epoch(source, m);
            } else {
              throw MpiError(fmt::format("coordinator: unexpected message from rank {}", source));
            }
          },
          envelope.message);
    }
    if (any_result && std::chrono::steady_clock::now() - last_checkpoint >= options_.checkpoint) {
      store_.flush();
      last_checkpoint = std::chrono::steady_clock::now();
    }
  }
  store_.flush();
  return summary_;
}

}  // namespace cs::orchestrator
