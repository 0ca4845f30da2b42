"""Timing and memory helpers: process-tree peak RSS, CPU time of children, percentiles."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# How often the memory sampler reads /proc: fine enough for builds that last seconds, and
# rare enough not to take CPU from what it measures (one sample reads every process's
# stat once: about 1.5 ms of CPU here; sampling every 50 ms with a scan per process in
# the tree took about a tenth of a core from the build being measured).
RSS_SAMPLE_S = 0.2
# Proportional set sizes cost far more to read: the kernel counts each page's sharers,
# tens of ms a sample for a build's forked workers. Read at every RSS sample, they took
# 0.13 to 0.2 of a core from the 2-core builds they measured (14 s of 111 at 120,000
# articles; `others_cores_mean` 0.2 at a million). So PSS is read at most this share of
# the time: about once a second then, where a build's peak lasts seconds (its workers
# holding their shares' postings).
PSS_TIME_SHARE = 0.02
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _parents() -> dict[int, int]:
    """pid -> parent pid, for every process now."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` now."""
    return sorted(child for child, parent in _parents().items() if parent == pid)


def tree_pids(pid: int) -> list[int]:
    """`pid` and all its descendants now."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found = []
    todo = [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def tree_rss(pid: int, pids: list[int] | None = None) -> int:
    """Resident bytes of `pid` and all its descendants now (of `pids`, if given)."""
    total = 0
    for current in pids if pids is not None else tree_pids(pid):
        try:
            pages = int(Path(f"/proc/{current}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * _PAGE
    return total


def tree_pss(pids: list[int]) -> int:
    """Proportional set size of `pids` now: each shared page divided among the processes
    that map it, so forked workers' copy-on-write pages of their parent count once (a sum
    of RSS counts them in every worker)."""
    total = 0
    for current in pids:
        try:
            lines = Path(f"/proc/{current}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) * 1024 for line in lines if line.startswith("Pss:"))
    return total


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by `pids` and by their reaped children: each process's
    user + system time plus what its waited-for children used (so a worker that has
    exited still counts, through its parent)."""
    total = 0
    for current in pids:
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / _TICK


@dataclass
class RunResult:
    wall_s: float
    cpu_s: float  # user + system of the process tree
    peak_rss: int  # bytes, sum over the process tree, sampled
    peak_pss: int  # bytes, the same for proportional set sizes
    peak_pss_at_s: float  # when the PSS peak was sampled, seconds after the start
    stdout: str


def run_measured(
    cmd: list[str],
    *,
    env: dict | None = None,
    cwd: str | None = None,
    watch: Callable[[int, list[int]], None] | None = None,
) -> RunResult:
    """Run `cmd` to completion; its wall time, CPU time and peak tree memory. `watch`, if
    given, is called at every memory sample with the process's pid and its tree's pids."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = peak_pss = 0
    peak_at = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss, peak_at
        next_pss = 0.0  # when PSS may be read again (PSS_TIME_SHARE)
        while not done.is_set():
            pids = tree_pids(proc.pid)
            peak = max(peak, tree_rss(proc.pid, pids))
            now = time.perf_counter()
            if now >= next_pss:
                pss = tree_pss(pids)
                next_pss = now + (time.perf_counter() - now) / PSS_TIME_SHARE
                if pss > peak_pss:
                    peak_pss, peak_at = pss, now - started
            if watch is not None:
                watch(proc.pid, pids)
            done.wait(RSS_SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}):\n{err[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return RunResult(wall, cpu, peak, peak_pss, round(peak_at, 1), out)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def machine_load() -> list[float]:
    return list(os.getloadavg())


def per_cpu_second(work: Callable[[object], object], items: Sequence, passes: int = 5) -> float:
    """Items `work` handles per CPU second, median of `passes` after one untimed pass (word
    lists and langdetect's profiles load once)."""
    for item in items:
        work(item)
    rates = []
    for _ in range(passes):
        start = time.process_time()
        for item in items:
            work(item)
        rates.append(len(items) / (time.process_time() - start))
    return statistics.median(rates)
