// SIGTERM, SIGINT (Ctrl-C) and SIGUSR1 (Slurm's warning before a time limit) ask the study to stop cleanly.
#pragma once

namespace cs::orchestrator {

/// Installs handlers for SIGTERM, SIGINT and SIGUSR1 that only record the signal, on every rank: a
/// worker keeps training until the coordinator says stop; the coordinator stops dispatching.
void install_stop_signals();
/// The signal received since install_stop_signals(), or 0.
int stop_signal();
/// "SIGTERM", "SIGINT", "SIGUSR1".
const char* signal_name(int signal);

}  // namespace cs::orchestrator
