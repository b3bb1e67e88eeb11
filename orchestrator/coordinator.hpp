// Rank 0: hands out trials to whichever worker asks, gathers epochs and results, writes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "io/trial_sink.hpp"
#include "orchestrator/progress.hpp"
#include "orchestrator/transport.hpp"
#include "scheduling/clock.hpp"
#include "scheduling/placement.hpp"
#include "search/pruner.hpp"
#include "search/sampler.hpp"

namespace cs::orchestrator {

struct CoordinatorSummary {
  std::int64_t trials_done = 0;
  std::int64_t trials_failed = 0;
  std::vector<std::string> notes;    ///< workers that left early, and why
  std::string stopped;               ///< why dispatching stopped early (carbon budget, a signal); empty otherwise
  bool interrupted = false;          ///< by a signal: the study is unfinished and can be resumed
  std::vector<io::IdleRecord> idle;  ///< per worker
  std::vector<int> lost;             ///< workers declared lost (silent past the heartbeat timeout)
  std::int64_t requeued = 0;         ///< trials of lost workers run again on another
  std::int64_t retried = 0;          ///< failed or timed-out attempts run again ([faults] retries)
};

struct CoordinatorOptions {
  std::int64_t budget_trials = 0;
  std::vector<int> workers;                       ///< the ranks that train; the coordinator does not
  search::Pruner* pruner = nullptr;               ///< may be null
  int epochs_per_trial = 1;                       ///< prices the epochs a pruned trial did not run
  std::chrono::milliseconds checkpoint{10'000};   ///< how often the HDF5 file is rewritten
  scheduling::PlacementPolicy* policy = nullptr;  ///< null: fifo
  const scheduling::Clock* clock = nullptr;       ///< null: the wall clock
  std::vector<scheduling::SiteState> sites;       ///< for placement and idle pricing
  std::map<int, std::size_t> worker_site;         ///< rank -> index into sites
  double idle_power_w = 0.0;                      ///< counted while a worker waits
  std::chrono::milliseconds idle_wait{1000};      ///< longest wait for a message when nothing is due
  /// Polled after every batch: a signal number, or 0. One that ends_trials() stops dispatching and
  /// interrupts the running trials (kept as interrupted); SIGUSR1 stops dispatching and lets run
  /// only the trials that can end within `grace`. A worker's Signalled counts the same. Null: never.
  std::function<int()> stop_signal;
  /// Called once before the last write of the results file, for attributes known only at the end
  /// (simulate's suggestion times). Null: none.
  std::function<void()> before_final_flush;
  /// A worker silent this long is lost: its trial runs again elsewhere, the study goes on.
  std::chrono::milliseconds heartbeat_timeout{60'000};
  /// The workers' heartbeat interval: silence beyond it is a running trial's stall.
  std::chrono::milliseconds heartbeat_interval{10'000};
  int retries = 0;  ///< re-runs of a failed or timed-out trial
  /// After SIGTERM, how long the interrupted trials' results are awaited before the workers
  /// still running one are given up (lost).
  std::chrono::milliseconds interrupt_wait{8'000};
  /// After SIGUSR1, the time left before the job ends (Slurm's warning before its time limit).
  std::chrono::milliseconds grace{110'000};
  /// For samplers that do not learn from results (random, grid) under fifo placement: a result's
  /// worker gets its next trial before the result's fsync, which then runs on the store's
  /// thread while the coordinator goes on serving; the result counts as done only once durable.
  bool assign_before_commit = false;
};

class Coordinator {
 public:
  Coordinator(Transport& transport, search::Sampler& sampler, io::TrialSink& trials, ProgressSink& progress,
              CoordinatorOptions options);

  /// Takes the finished trials of an interrupted run: they are not run again, and the
  /// sampler observes them (in trial order) as if never interrupted.
  void resume(const std::vector<io::TrialResult>& finished);

  /// Runs until every trial is done or no worker is left; returns when every worker has
  /// been told to shut down or has left.
  CoordinatorSummary run();

 private:
  /// A trial that a worker runs now, as the coordinator follows it.
  struct Running {
    search::TrialSpec spec;
    std::int32_t attempt = 1;
    std::chrono::steady_clock::time_point started;
    int epochs = 0;            ///< reported so far
    double epochs_s = 0.0;     ///< their total duration
    double stall_s = 0.0;      ///< the worker's silence beyond the heartbeat interval
    bool interrupted = false;  ///< an Interrupt was sent
  };
  /// A trial to run again, preferably not on `avoid`.
  struct Rerun {
    search::TrialSpec spec;
    std::int32_t attempt = 1;
    int avoid = -1;
  };
  /// What becomes of a result that arrived.
  enum class Fate { kFinal, kRetry, kIgnored };

  /// Assigns the next trial, or tells the worker to shut down; true when it assigned.
  bool on_ready(int worker);
  /// Something is left to hand out (new trials or reruns), and dispatching has not stopped.
  bool work_left() const;
  /// Whether idle workers wait for trials that may still need them (reruns) rather than shut down.
  bool keep_idle_workers() const;
  void assign(int worker, search::TrialSpec spec, std::int32_t attempt);
  /// The rerun this worker should take: one that avoids another worker first.
  std::optional<Rerun> take_rerun(int worker);
  /// Journals a result (or, if it will be retried, its attempt); returns what becomes of it.
  Fate accept(int worker, io::TrialResult& result);
  /// Frees the worker of its finished trial (a retry is queued); the result does not count yet.
  void release(int worker, const io::TrialResult& result, Fate fate);
  /// Counts a result (`released`: release() has run for it already).
  void on_result(int worker, io::TrialResult& result, Fate fate, bool released);
  void make_idle(int worker);
  /// A worker silent past the heartbeat timeout: its trial is re-queued, it gets no more.
  void lose(int worker, const std::string& why);
  void check_heartbeats();
  void heard_from(int worker);
  void on_signal(int signal);
  /// Sends an Interrupt to a running trial's worker (once).
  void interrupt(int worker);
  /// SIGUSR1: can the trial end before the grace deadline, judged by its epochs so far?
  bool fits_grace(const Running& trial) const;
  void check_deadlines();
  /// Asks the placement policy which idle workers get a trial now (the others wait or are shut
  /// down), and sets `review_at` when the policy wants to be asked again.
  void dispatch(double& review_at);
  /// Ends a worker's idle interval at `now`, pricing its idle power.
  void end_idle(const scheduling::IdleWorker& worker, double now);
  scheduling::PlacementContext context(double now) const;
  void count(const io::TrialResult& result);
  void on_epoch(int worker, const EpochReport& report);
  /// The messages that have arrived, waiting at most until `review_at` (pricing time) or idle_wait.
  std::vector<Envelope> take_batch(double review_at);
  /// Acts on one message (`fate`, `released`: of a ResultReport).
  void handle(Envelope& envelope, Fate fate, bool released);
  /// A stop signal stops dispatching and flushes the file at once.
  void check_stop_signal();
  /// Counts the released results whose fsync has finished.
  void count_durable();

  Transport& transport_;
  search::Sampler& sampler_;
  io::TrialSink& store_;
  ProgressSink& progress_;
  CoordinatorOptions options_;
  double completed_epoch_energy_j_ = 0.0;  ///< over completed trials, for the pruning estimate
  std::int64_t completed_epochs_ = 0;
  std::vector<std::int64_t> todo_;  ///< trial ids still to run, ascending
  std::size_t next_todo_ = 0;
  bool exhausted_ = false;
  std::vector<search::TrialSpec> pending_;
  std::map<std::int64_t, std::size_t> pending_index_;  ///< trial id -> position in pending_
  CoordinatorSummary summary_;
  scheduling::WallClock wall_clock_;
  const scheduling::Clock& clock_;
  std::unique_ptr<scheduling::PlacementPolicy> fifo_;
  scheduling::PlacementPolicy& policy_;
  std::vector<scheduling::IdleWorker> idle_;
  std::map<int, double> running_co2_g_;  ///< rank -> expected CO2 of its trial
  double running_co2_sum_g_ = 0.0;
  std::map<int, io::IdleRecord> idle_records_;
  double co2_done_g_ = 0.0, completed_duration_s_ = 0.0, completed_energy_j_ = 0.0;
  std::int64_t completed_ = 0;
  bool stopped_ = false;
  std::set<int> active_;  ///< workers not yet shut down, left or lost
  std::map<int, Running> running_;
  std::map<int, std::chrono::steady_clock::time_point> last_heard_;
  std::chrono::steady_clock::time_point last_heartbeat_check_{};
  std::deque<Rerun> reruns_;
  /// A result released before its fsync (assign_before_commit), counted once its ticket is durable.
  struct AwaitingDurable {
    Envelope envelope;
    Fate fate;
    std::uint64_t ticket;
  };
  std::deque<AwaitingDurable> awaiting_durable_;
  /// How often the results awaiting their fsync are looked at while no message arrives.
  static constexpr std::chrono::milliseconds kDurableCheck{1};
  std::optional<std::chrono::steady_clock::time_point> interrupt_deadline_;  ///< after SIGTERM
  std::optional<std::chrono::steady_clock::time_point> grace_deadline_;      ///< after SIGUSR1
  int signal_ = 0;                                                           ///< the strongest stop signal so far
};

}  // namespace cs::orchestrator
