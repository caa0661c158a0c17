"""Whose CPU one request costs the machine under load, read from /proc around each wrk run.

At 16 connections and more, this 2-core machine is CPU-bound (vmstat
shows it idle under 2%), so a request kind's throughput is about the
machine's cores divided by the CPU one request costs, wherever that CPU is
spent: in gunicorn's workers, in PostgreSQL, in Redis, in wrk itself, or in
the kernel on behalf of any of them. The bench takes a snapshot of the CPU
time (user + system) each of them has used so far before and after every
wrk run; the differences divided by the requests wrk counted say what one
request cost each of them. The floor pays for its workers, PostgreSQL and
wrk the same way, so the two can be compared part by part.

- ``workers``: the server's gunicorn master and workers (all their threads).
  Each process counts with the children it has reaped (``process_ticks``).
- ``postgresql``, ``redis``: every process of that name on the machine (the
  bench runs alone; other load on a shared machine lands here and in
  ``machine``).
- ``wrk``: the bench's own finished child processes (getrusage), which during
  a run is wrk alone.
- ``machine``: the whole machine's busy time (/proc/stat: everything but
  idle, iowait and steal), so what no part names (interrupts, other
  processes) shows as the difference.
"""

import os
import resource
from pathlib import Path

PROC = Path("/proc")
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")
PARTS = ("workers", "postgresql", "redis", "wrk", "machine")


def process_ticks(pid: int, proc: Path = PROC) -> int:
    """utime + stime of one process (all its threads) and of the children it has reaped (cutime + cstime), in
    clock ticks; 0 once it is gone.

    The children's part keeps a sum over a server's processes from falling when one of them ends: a
    PostgreSQL backend whose connection closes (Django keeps them DB_CONN_MAX_AGE seconds) takes its CPU time
    out of the sum, and the postmaster, which reaps it, brings it back in its cutime and cstime. Counting only
    the living, the 23:40 bench run read PostgreSQL's CPU as 0 in 5 of its 18 floor runs at 16 connections,
    though each of their requests makes a query.
    """
    try:
        # The command name in brackets may hold spaces and brackets: the fields follow its last ")".
        fields = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime (fields 14-17)


def pids_named(prefix: str, proc: Path = PROC) -> list[int]:
    """The processes whose command name starts with ``prefix`` (``postgres``, ``redis-server``)."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name.startswith(prefix):
            found.append(int(entry.name))
    return found


def machine_busy_ticks(proc: Path = PROC) -> int:
    """All CPUs' time spent working for this machine, in clock ticks (/proc/stat): user, nice, system, irq and
    softirq; not idle, not waiting for the disk, not stolen by the hypervisor for other machines."""
    first = (proc / "stat").read_text().splitlines()[0].split()
    # cpu user nice system idle iowait irq softirq steal [guest guest_nice: already inside user and nice]
    user, nice, system, _idle, _iowait, irq, softirq, _steal = (int(value) for value in first[1:9])
    return user + nice + system + irq + softirq


def snapshot(server_pids: list[int], proc: Path = PROC) -> dict[str, float]:
    """CPU used so far, in µs, by each part (see the module's docstring)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "workers": sum(process_ticks(pid, proc) for pid in server_pids) * TICK_US,
        "postgresql": sum(process_ticks(pid, proc) for pid in pids_named("postgres", proc)) * TICK_US,
        "redis": sum(process_ticks(pid, proc) for pid in pids_named("redis-server", proc)) * TICK_US,
        "wrk": (children.ru_utime + children.ru_stime) * 1e6,
        "machine": machine_busy_ticks(proc) * TICK_US,
    }


def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """µs of each part's CPU per request between two snapshots."""
    if requests <= 0:
        return {}
    return {part: max(after[part] - before[part], 0.0) / requests for part in PARTS}
