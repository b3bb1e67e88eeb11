"""A real Slurm on loopback for the tests: munged, slurmctld and two slurmd (nodes a1 and b1, one
per site partition, site_a and site_b) in a temporary directory, stopped (and removed) on exit. How it is set up, and why, is in docs/slurm.md. Needs root
(the daemons run as root, as in CI) and Debian's slurm-wlm and munge."""
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _munge_works():
    try:
        token = subprocess.run(["munge", "-n"], capture_output=True, timeout=10)
        return token.returncode == 0 and subprocess.run(["unmunge"], input=token.stdout, capture_output=True,
                                                         timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _start_munge():
    """Starts munged unless one answers already; returns its pid when this call started it."""
    if _munge_works():
        return None
    for d in ("/etc/munge", "/run/munge", "/var/log/munge", "/var/lib/munge"):
        os.makedirs(d, exist_ok=True)
        shutil.chown(d, "munge", "munge")
    os.chmod("/etc/munge", 0o700)
    os.chmod("/run/munge", 0o755)
    os.chmod("/etc/munge/munge.key", 0o400)
    subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True, timeout=30)
    for _ in range(50):
        if _munge_works():
            with open("/run/munge/munged.pid") as f:
                return int(f.read())
        time.sleep(0.1)
    raise RuntimeError("munged did not start")


CONF = """ClusterName=cstest
SlurmctldHost=localhost
SlurmctldPort={ctld_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool/%n
TmpFS={base}/tmp/%n
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd-%n.pid
SlurmctldLogFile={base}/log/slurmctld.log
SlurmdLogFile={base}/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AcctGatherEnergyType=acct_gather_energy/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={base}/log/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,bf_hetjob_immediate,sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=300
MailProg=/bin/true
NodeName=a1 NodeHostname={host} NodeAddr=127.0.0.1 Port={port_a} CPUs=4 Boards=1 SocketsPerBoard=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=1000
NodeName=b1 NodeHostname={host} NodeAddr=127.0.0.1 Port={port_b} CPUs=4 Boards=1 SocketsPerBoard=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=1000
PartitionName=site_a Nodes=a1 Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
PartitionName=site_b Nodes=b1 MaxTime=INFINITE State=UP OverSubscribe=YES
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_slurm():
    """Yields the environment (SLURM_CONF set) under which sbatch, squeue, ... reach this Slurm."""
    base = tempfile.mkdtemp(prefix="cs-slurm-")
    nodes = ("a1", "b1")
    for d in ("state", "log", *(f"spool/{n}" for n in nodes), *(f"tmp/{n}" for n in nodes)):
        os.makedirs(os.path.join(base, d))
    conf = os.path.join(base, "slurm.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(base=base, host=socket.gethostname(), ctld_port=_free_port(), port_a=_free_port(),
                            port_b=_free_port()))
    env = dict(os.environ, SLURM_CONF=conf)
    munged = _start_munge()
    pids = []
    try:
        subprocess.run(["slurmctld", "-i"], env=env, check=True, timeout=30)
        for node in nodes:
            subprocess.run(["slurmd", "-N", node], env=env, check=True, timeout=30)
        for _ in range(300):
            r = subprocess.run(["sinfo", "-h", "-N", "-t", "idle", "-o", "%N"], env=env, capture_output=True, text=True)
            if all(n in r.stdout.split() for n in nodes):
                break
            time.sleep(0.2)
        else:
            log = open(os.path.join(base, "log", "slurmctld.log")).read()[-2000:]
            raise RuntimeError("the slurmd nodes never became idle:\n" + log)
        yield env
    finally:
        for name in (*(f"slurmd-{n}.pid" for n in nodes), "slurmctld.pid"):  # read first: the daemons remove them
            with contextlib.suppress(OSError, ValueError):
                pids.append(int(open(os.path.join(base, name)).read()))
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, 15)
        for pid in pids:
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
        # Job steps outlive the daemons (slurmstepd, srun, the job's processes): end everything
        # that was started under this Slurm's configuration.
        mark = f"SLURM_CONF={conf}".encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if mark in f.read().split(b"\0"):
                        os.kill(int(entry), 9)
        if munged:
            with contextlib.suppress(OSError):
                os.kill(munged, 15)
        shutil.rmtree(base, ignore_errors=True)


def wait_for_job(env, job, timeout=180):
    """Waits until squeue no longer lists the job; returns its final state from the jobcomp log."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], env=env, capture_output=True, text=True)
        if r.returncode != 0 or not r.stdout.strip():
            break
        time.sleep(0.5)
    else:
        show = subprocess.run(["scontrol", "show", "job", job], env=env, capture_output=True, text=True).stdout
        subprocess.run(["scancel", job], env=env)
        ctld = open(os.path.join(os.path.dirname(env["SLURM_CONF"]), "log", "slurmctld.log")).read()[-3000:]
        raise AssertionError(f"job {job} still queued or running after {timeout} s:\n{show}\nslurmctld.log:\n{ctld}")
    conf_dir = os.path.dirname(env["SLURM_CONF"])
    for _ in range(50):
        with contextlib.suppress(OSError):
            for line in open(os.path.join(conf_dir, "log", "jobcomp.txt")):
                fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
                if fields.get("JobId") == job:
                    return fields.get("JobState"), fields.get("ExitCode")
        time.sleep(0.2)
    return None, None
