"""Per-process statistics for the processes named in the config, summed over every matching process.

A configured name matches a process whose name equals it, or whose command line has an argument whose base name
equals it (so ``server.py`` matches ``python /app/server.py`` and ``flcollector`` matches a console script).
Runs in a worker thread: psutil reads /proc and that blocks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import attrs
import psutil


@attrs.define
class ProcessTotals:
    """Sums over the processes matching one configured name (``count`` may be 0: none is running)."""

    count: int = 0
    cpu_percent: float = 0.0
    rss_bytes: int = 0
    num_threads: int = 0
    num_fds: int = 0


def process_matches(pattern: str, name: str | None, cmdline: Iterable[str] | None) -> bool:
    """Return True when ``pattern`` is the process name or the base name of one of its command-line arguments."""
    if name == pattern:
        return True
    return any(os.path.basename(arg) == pattern for arg in cmdline or ())


class ProcessSampler:
    """Finds the matching processes and reads their stats; keeps psutil.Process objects for CPU baselines.

    ``cpu_percent`` is measured since the previous sample of the same process object, so a process seen for the
    first time contributes 0 to ``cpu_percent`` in that sample (psutil has no baseline yet).
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._known: dict[int, psutil.Process] = {}

    def sample(self) -> dict[str, ProcessTotals]:
        """Return totals per configured name (every name present, also when nothing matches)."""
        totals = {name: ProcessTotals() for name in self.names}
        seen: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter(["name", "cmdline"]):
            info = proc.info
            matched = [n for n in self.names if process_matches(n, info.get("name"), info.get("cmdline"))]
            if not matched:
                continue
            known = self._known.get(proc.pid)
            # psutil compares pid and creation time: a recycled pid is a new process and gets a new baseline.
            current = known if known is not None and known == proc else proc
            stats = _read_stats(current)
            if stats is None:
                continue
            seen[proc.pid] = current
            for name in matched:
                total = totals[name]
                total.count += 1
                total.cpu_percent += stats.cpu_percent
                total.rss_bytes += stats.rss_bytes
                total.num_threads += stats.num_threads
                total.num_fds += stats.num_fds
        self._known = seen  # drop processes that exited
        for total in totals.values():
            total.cpu_percent = round(total.cpu_percent, 3)
        return totals


def _read_stats(proc: psutil.Process) -> ProcessTotals | None:
    """Read one process's stats; None when it exited meanwhile. Unreadable fds (other users) count as 0."""
    try:
        with proc.oneshot():
            stats = ProcessTotals(
                count=1,
                cpu_percent=proc.cpu_percent(interval=None),
                rss_bytes=proc.memory_info().rss,
                num_threads=proc.num_threads(),
            )
            try:
                stats.num_fds = proc.num_fds()
            except (psutil.AccessDenied, AttributeError):  # AttributeError: num_fds is POSIX-only
                pass
            return stats
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None
