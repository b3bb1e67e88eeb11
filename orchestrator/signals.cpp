// An async-signal-safe flag.
#include "orchestrator/signals.hpp"

#include <atomic>
#include <csignal>

namespace cs::orchestrator {

namespace {
std::atomic<int> g_signal{0};
extern "C" void record_signal(int signal) {
  // A second Ctrl-C means "now": the default action ends the process at once.
  if (signal == SIGINT && g_signal.load() != 0) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  if (signal == SIGUSR1 && g_signal.load() != 0) return;  // a stronger one came first
  g_signal.store(signal);
}
}  // namespace

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGUSR2, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);  // Ctrl-C stops like SIGTERM (a second one ends it at once)
}

int stop_signal() { return g_signal.load(); }

bool ends_trials(int signal) { return signal == SIGTERM || signal == SIGINT || signal == SIGUSR2; }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
    case SIGUSR2: return "SIGUSR2";
    default: return "a signal";
  }
}

}  // namespace cs::orchestrator
