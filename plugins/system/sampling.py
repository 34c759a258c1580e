"""One blocking read of everything psutil and the cgroup files say about this host (run in a worker thread).

The result is raw: counters and absolute values. Turning counters into rates and percentages is the monitor's
job, on the Trio side, so the sample itself holds no state and an abandoned (timed-out) read is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import psutil

from .cgroup import CgroupLimits, read_cgroup_limits
from .processes import ProcessSampler, ProcessTotals

#: psutil's per-interface counter names, mapped to our field stems.
NET_COUNTERS = {
    "bytes_recv": "rx_bytes",
    "bytes_sent": "tx_bytes",
    "packets_recv": "rx_packets",
    "packets_sent": "tx_packets",
    "errin": "rx_errors",
    "errout": "tx_errors",
    "dropin": "rx_drops",
    "dropout": "tx_drops",
}
#: psutil's disk I/O counter names, mapped to our field stems.
DISK_COUNTERS = {
    "read_bytes": "read_bytes",
    "write_bytes": "write_bytes",
    "read_count": "read_ops",
    "write_count": "write_ops",
}


@attrs.define
class HostSample:
    """Raw readings taken at monotonic time ``at_s`` (wall clock ``time_ns``)."""

    at_s: float
    time_ns: int
    cpu_times: dict[str, float]
    per_cpu_times: list[dict[str, float]]
    cpu_count: int
    memory: dict[str, Any]
    swap: dict[str, Any]
    disks: dict[str, dict[str, Any]]
    missing_mountpoints: list[str]
    disk_io: dict[str, float] | None
    net: dict[str, dict[str, float]]
    load: tuple[float, float, float] | None
    processes: dict[str, ProcessTotals]
    cgroup: CgroupLimits | None
    cgroup_error: str | None


@attrs.define
class HostSampler:
    """What to read; :meth:`sample` is blocking and meant for ``trio.to_thread.run_sync``."""

    per_cpu: bool
    mountpoints: Sequence[str]
    cgroup_root: Path | None
    processes: ProcessSampler | None

    def sample(self) -> HostSample:
        """Read everything once."""
        at_s, time_ns = time.monotonic(), time.time_ns()
        disks, missing = {}, []
        for mountpoint in self.mountpoints:
            try:
                disks[mountpoint] = psutil.disk_usage(mountpoint)._asdict()
            except OSError:  # not mounted (yet), or no permission: reported by the monitor, never fatal
                missing.append(mountpoint)
        io = psutil.disk_io_counters(perdisk=False)  # None in some containers without /proc/diskstats
        try:
            load: tuple[float, float, float] | None = psutil.getloadavg()
        except (OSError, AttributeError):
            load = None
        cgroup, cgroup_error = None, None
        if self.cgroup_root is not None:
            try:
                cgroup = read_cgroup_limits(self.cgroup_root)
            except ValueError as exc:
                cgroup_error = str(exc)
        return HostSample(
            at_s=at_s,
            time_ns=time_ns,
            cpu_times=psutil.cpu_times()._asdict(),
            per_cpu_times=[t._asdict() for t in psutil.cpu_times(percpu=True)] if self.per_cpu else [],
            cpu_count=psutil.cpu_count() or 1,
            memory=psutil.virtual_memory()._asdict(),
            swap=psutil.swap_memory()._asdict(),
            disks=disks,
            missing_mountpoints=missing,
            disk_io=None if io is None else {ours: getattr(io, theirs) for theirs, ours in DISK_COUNTERS.items()},
            net={
                nic: {ours: getattr(counters, theirs) for theirs, ours in NET_COUNTERS.items()}
                for nic, counters in psutil.net_io_counters(pernic=True).items()
            },
            load=load,
            processes=self.processes.sample() if self.processes is not None else {},
            cgroup=cgroup,
            cgroup_error=cgroup_error,
        )
