// The coordinator's event loop.
#include "orchestrator/coordinator.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "errors/error.hpp"

namespace cs::orchestrator {

Coordinator::Coordinator(Transport& transport, search::Sampler& sampler, io::ResultsStore& store, Progress& progress,
                         std::int64_t budget_trials, std::vector<int> workers)
    : transport_(transport),
      sampler_(sampler),
      store_(store),
      progress_(progress),
      budget_(budget_trials),
      workers_(std::move(workers)) {}

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

void Coordinator::on_result(io::TrialResult result) {
  std::erase_if(pending_, [&](const search::TrialSpec& s) { return s.id == result.spec.id; });
  sampler_.observe({result.spec, result.status, result.val_accuracy, result.energy_j});
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
            // Pruning decisions will hook in here; the epoch is stored with the final result.
          } else {
            throw MpiError(fmt::format("coordinator: unexpected message from rank {}", source));
          }
        },
        envelope->message);
  }
  return summary_;
}

}  // namespace cs::orchestrator
