// The worker loop.
#include "orchestrator/worker.hpp"

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::orchestrator {

namespace {
Envelope wait_for(Transport& transport) {
  while (true) {
    if (auto envelope = transport.receive(std::chrono::milliseconds(1000))) return std::move(*envelope);
  }
}
}  // namespace

int run_worker(Transport& transport, int coordinator, bool epochs_answered,
               const std::function<std::unique_ptr<nodes::TrialExecutor>()>& make_executor) {
  std::unique_ptr<nodes::TrialExecutor> executor;
  try {
    executor = make_executor();
  } catch (const std::exception& e) {
    transport.send(coordinator, Goodbye{transport.rank(), e.what()});
    return 0;
  }
  int trials = 0;
  transport.send(coordinator, Ready{transport.rank()});  // later, each result asks for the next trial
  while (true) {
    const auto envelope = wait_for(transport);
    if (std::holds_alternative<Shutdown>(envelope.message)) return trials;
    const auto* assign = std::get_if<Assign>(&envelope.message);
    if (!assign)
      throw MpiError(fmt::format("worker {}: unexpected message from rank {}", transport.rank(), envelope.source));
    const auto& spec = assign->spec;
    auto result = executor->run(spec, [&](const io::EpochRecord& record) {
      transport.send(coordinator, EpochReport{spec.id, record});
      if (!epochs_answered) return nodes::EpochDecision::kContinue;
      const auto answer = wait_for(transport);
      const auto* decision = std::get_if<Decision>(&answer.message);
      if (!decision) {
        throw MpiError(
            fmt::format("worker {}: expected a pruning decision from rank {}", transport.rank(), answer.source));
      }
      return decision->stop ? nodes::EpochDecision::kStop : nodes::EpochDecision::kContinue;
    });
    transport.send(coordinator, ResultReport{std::move(result)});
    ++trials;
  }
}

}  // namespace cs::orchestrator
