// An async-signal-safe flag.
#include "orchestrator/signals.hpp"

#include <atomic>
#include <csignal>

namespace cs::orchestrator {

namespace {
std::atomic<int> g_signal{0};
extern "C" void record_signal(int signal) { g_signal.store(signal); }
}  // namespace

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

int stop_signal() { return g_signal.load(); }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    default: return "a signal";
  }
}

}  // namespace cs::orchestrator
