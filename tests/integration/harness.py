"""What the integration tests share: the environment mpiexec needs here, and running it."""
import os
import subprocess


def mpi_env():
    """Open MPI refuses to run as root (as in CI) unless told that it is allowed."""
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def mpi_command(mpiexec, ranks, carbonsweep, *args):
    return [mpiexec, "--oversubscribe", "-n", str(ranks), carbonsweep, *args]


def run_mpi(mpiexec, ranks, carbonsweep, *args, timeout=300):
    """Runs carbonsweep under mpiexec and returns the completed process (text output)."""
    return subprocess.run(mpi_command(mpiexec, ranks, carbonsweep, *args), env=mpi_env(), capture_output=True,
                          text=True, timeout=timeout)
