// The worker loop, its heartbeat thread, and how a running trial learns that it must stop.
#include "orchestrator/worker.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/error.hpp"
#include "orchestrator/signals.hpp"

namespace cs::orchestrator {

namespace {

/// Sends a Heartbeat every interval from a thread of its own until destroyed.
class HeartbeatThread {
 public:
  HeartbeatThread(Transport& transport, int coordinator, std::chrono::milliseconds interval)
      : thread_([&transport, coordinator, interval, this](std::stop_token stop) {
          std::unique_lock lock(mutex_);
          while (true) {
            wake_.wait_for(lock, stop, interval, [] { return false; });
            if (stop.stop_requested()) return;
            try {
              transport.send(coordinator, Heartbeat{transport.rank()});
            } catch (const std::exception&) {
              return;  // the coordinator is gone: the main thread finds out on its own
            }
          }
        }) {}

 private:
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined before the mutex goes
};

/// The worker's view of signals and of the coordinator's Interrupt: what a running trial asks.
class StopWatch {
 public:
  StopWatch(Transport& transport, const WorkerOptions& options) : transport_(transport), options_(options) {}

  /// Passes a new signal on to the coordinator; true once a signal that ends trials arrived.
  bool check_signal() {
    const int signal = options_.stop_signal ? options_.stop_signal() : 0;
    if (signal != 0 && signal != forwarded_) {
      forwarded_ = signal;
      transport_.send(options_.coordinator, Signalled{signal});
    }
    terminated_ = terminated_ || ends_trials(signal);
    return terminated_;
  }

  void start_trial(std::int64_t id) {
    trial_ = id;
    started_ = std::chrono::steady_clock::now();
    last_look_ = {};
    stopped_as_.reset();
  }

  /// Why the running trial must end now, if it must. Looks for an Interrupt at most every 20 ms.
  std::optional<search::TrialStatus> check_trial() {
    if (stopped_as_) return stopped_as_;
    const auto now = std::chrono::steady_clock::now();
    if (check_signal()) {
      stopped_as_ = search::TrialStatus::kInterrupted;
    } else if (options_.trial_timeout && now - started_ >= *options_.trial_timeout) {
      stopped_as_ = search::TrialStatus::kTimeout;
    } else if (now - last_look_ >= std::chrono::milliseconds(20)) {
      last_look_ = now;
      while (auto e = transport_.receive_tagged(tag_of(Interrupt{}))) {
        if (std::get<Interrupt>(e->message).trial_id == trial_) stopped_as_ = search::TrialStatus::kInterrupted;
      }
    }
    return stopped_as_;
  }

  /// An Interrupt that arrived while the worker waited for something else.
  void interrupt(std::int64_t trial_id) {
    if (trial_id == trial_ && !stopped_as_) stopped_as_ = search::TrialStatus::kInterrupted;
  }

  bool terminated() const { return terminated_; }

 private:
  Transport& transport_;
  const WorkerOptions& options_;
  int forwarded_ = 0;
  bool terminated_ = false;
  std::int64_t trial_ = -1;
  std::chrono::steady_clock::time_point started_, last_look_;
  std::optional<search::TrialStatus> stopped_as_;
};

/// The next message from the coordinator other than an Interrupt (handed to `watch`). After a stop signal the
/// wait is bounded (shutdown_wait): nullopt then means the coordinator did not answer.
std::optional<Envelope> wait_for(Transport& transport, StopWatch& watch, const WorkerOptions& options) {
  std::optional<std::chrono::steady_clock::time_point> give_up;
  while (true) {
    if (watch.check_signal() && !give_up) give_up = std::chrono::steady_clock::now() + options.shutdown_wait;
    if (give_up && std::chrono::steady_clock::now() >= *give_up) return std::nullopt;
    if (auto envelope = transport.receive(std::chrono::milliseconds(100))) {
      if (const auto* interrupt = std::get_if<Interrupt>(&envelope->message)) {
        watch.interrupt(interrupt->trial_id);  // a stale one, for a trial already ended, changes nothing
        continue;
      }
      return envelope;
    }
  }
}

}  // namespace

WorkerEnd run_worker(Transport& transport, const WorkerOptions& options,
                     const std::function<std::unique_ptr<nodes::TrialExecutor>()>& make_executor) {
  HeartbeatThread heartbeat(transport, options.coordinator, options.heartbeat_interval);
  std::unique_ptr<nodes::TrialExecutor> executor;
  try {
    executor = make_executor();
  } catch (const std::exception& e) {
    transport.send(options.coordinator, Goodbye{transport.rank(), e.what()});
    return {};
  }
  StopWatch watch(transport, options);
  WorkerEnd end;
  transport.send(options.coordinator, Ready{transport.rank()});  // later, each result asks for the next trial
  while (true) {
    const auto envelope = wait_for(transport, watch, options);
    end.interrupted = watch.terminated();
    if (!envelope || std::holds_alternative<Shutdown>(envelope->message)) return end;
    const auto* assign = std::get_if<Assign>(&envelope->message);
    if (!assign) {
      throw MpiError(fmt::format("worker {}: unexpected message from rank {}", transport.rank(), envelope->source));
    }
    const auto& spec = assign->spec;
    watch.start_trial(spec.id);
    auto result = executor->run(
        spec,
        [&](const io::EpochRecord& record) {
          transport.send(options.coordinator, EpochReport{spec.id, record});
          if (!options.epochs_answered) return nodes::EpochDecision::kContinue;
          const auto answer = wait_for(transport, watch, options);
          const auto* decision = answer ? std::get_if<Decision>(&answer->message) : nullptr;
          if (!decision) {
            if (watch.terminated()) return nodes::EpochDecision::kContinue;  // the stop check ends the trial
            throw MpiError(fmt::format("worker {}: expected a pruning decision from rank {}", transport.rank(),
                                       answer ? answer->source : options.coordinator));
          }
          return decision->stop ? nodes::EpochDecision::kStop : nodes::EpochDecision::kContinue;
        },
        [&] { return watch.check_trial(); });
    result.attempt = assign->attempt;
    transport.send(options.coordinator, ResultReport{std::move(result)});
    ++end.trials;
  }
}

}  // namespace cs::orchestrator
