// The coordinator's event loop.
#include "orchestrator/coordinator.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "errors/error.hpp"

namespace cs::orchestrator {

Coordinator::Coordinator(Transport& transport, search::Sampler& sampler, io::ResultsStore& store, Progress& progress,
                         std::int64_t budget_trials, std::vector<int> workers, search::Pruner* pruner,
                         int epochs_per_trial)
    : transport_(transport),
      sampler_(sampler),
      store_(store),
      progress_(progress),
      budget_(budget_trials),
      workers_(std::move(workers)),
      pruner_(pruner),
      epochs_per_trial_(epochs_per_trial) {}

bool Coordinator::on_ready(int worker) {
  if (!exhausted_ && next_trial_ < budget_) {
    if (auto spec = sampler_.suggest(next_trial_, pending_)) {
      ++next_trial_;
      pending_.push_back(*spec);
      transport_.send(worker, Assign{std::move(*spec)});
      progress_.trial_started();
      return true;
    }
    exhausted_ = true;
    progress_.note(
        fmt::format("note: the {} sampler has no more points after {} trials", sampler_.name(), next_trial_));
  }
  transport_.send(worker, Shutdown{"no more trials"});
  return false;
}

void Coordinator::on_epoch(int worker, const EpochReport& report) {
  const bool stop = pruner_ && pruner_->should_stop(report.trial_id, report.record.epoch, report.record.objective);
  transport_.send(worker, Decision{report.trial_id, stop});
}

void Coordinator::on_result(io::TrialResult result) {
  std::erase_if(pending_, [&](const search::TrialSpec& s) { return s.id == result.spec.id; });
  if (result.status == search::TrialStatus::kCompleted && result.epochs_done > 0) {
    completed_epoch_energy_j_ += result.energy_j;
    completed_epochs_ += result.epochs_done;
  }
  if (result.status == search::TrialStatus::kPruned && result.epochs_done > 0) {
    // The epochs it did not run, priced at the completed trials' mean energy per epoch
    // (or its own, before any trial has completed).
    const double per_epoch_j = completed_epochs_ > 0
                                   ? completed_epoch_energy_j_ / static_cast<double>(completed_epochs_)
                                   : result.energy_j / result.epochs_done;
    result.pruning_saved_energy_j = per_epoch_j * std::max(0, epochs_per_trial_ - result.epochs_done);
  }
  sampler_.observe({result.spec, result.status, result.objective, result.energy_j, result.co2_g});
  ++summary_.trials_done;
  if (result.status == search::TrialStatus::kFailed || result.status == search::TrialStatus::kDiverged) {
    ++summary_.trials_failed;
  }
  progress_.trial_finished(result);
  store_.append(std::move(result));
  store_.flush();
}

CoordinatorSummary Coordinator::run() {
  const auto worker_count = static_cast<std::int64_t>(workers_.size());
  if (worker_count > budget_) {
    progress_.note(fmt::format("note: {} workers for {} trials; {} worker(s) will exit without work", worker_count,
                               budget_, worker_count - budget_));
  }
  std::int64_t active = worker_count;
  while (active > 0) {
    auto envelope = transport_.receive(std::chrono::milliseconds(1000));
    if (!envelope) continue;
    const int source = envelope->source;
    std::visit(
        [&](auto& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, Ready>) {
            if (!on_ready(source)) --active;
          } else if constexpr (std::is_same_v<T, ResultReport>) {
            on_result(std::move(m.result));
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
        envelope->message);
  }
  return summary_;
}

}  // namespace cs::orchestrator
