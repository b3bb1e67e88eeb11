// SIGTERM, SIGINT (Ctrl-C), SIGUSR2 and SIGUSR1 (Slurm's warning before a time limit) ask the study to stop cleanly.
#pragma once

namespace cs::orchestrator {

/// Installs handlers for SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 that only record the signal, on
/// every rank; the worker loop and the coordinator act on it (docs/reliability.md).
void install_stop_signals();
/// The strongest signal received since install_stop_signals() (one that ends trials wins over
/// SIGUSR1), or 0.
int stop_signal();
/// SIGTERM, SIGINT and SIGUSR2 stop the running trials at their next step. SIGUSR2 means what
/// SIGTERM means, for mpirun, which forwards SIGUSR1/2 to every rank but aborts the job on SIGTERM.
bool ends_trials(int signal);
/// "SIGTERM", "SIGINT", "SIGUSR1", "SIGUSR2".
const char* signal_name(int signal);

}  // namespace cs::orchestrator
