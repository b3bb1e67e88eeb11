"""What the integration tests share: the environment mpiexec needs here, running it, and the
search space of the synthetic (Branin) studies."""
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


# The two-dimensional Branin search space, as TOML tables (after the study's [search] table).
BRANIN_SPACE = """
[search.space.x1]
type = "float"
low = -5.0
high = 10.0

[search.space.x2]
type = "float"
low = 0.0
high = 15.0
"""


def branin_search(epoch_time, epochs):
    """[search] (random), the Branin space, and a function model of `epochs` epochs of
    `epoch_time` each: the middle of the synthetic studies' TOML."""
    return f"""
[search]
strategy = "random"
{BRANIN_SPACE}
[model]
family = "function"
function = "branin"
epoch_time = "{epoch_time}"

[training]
epochs = {epochs}
"""
