"""The ``system`` monitor: CPU, memory, swap, disks, disk and network I/O rates, load, processes, cgroup limits."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import trio
from flcollector import (
    CounterDelta,
    CounterTracker,
    EndpointError,
    Metric,
    Monitor,
    Record,
    Runtime,
    SourceUnavailable,
    endpoint_error_event,
    option_doc,
)

from .cgroup import cgroup_fields
from .processes import ProcessSampler
from .rates import cpu_shares
from .sampling import HostSample, HostSampler

#: CPU shares and rates over a shorter window are mostly quantisation noise (the kernel ticks at 100-1000 Hz),
#: so the first collection waits until this long after the baseline taken by open().
MIN_WINDOW_S = 0.25


@attrs.define
class SystemOptions:
    """Options of ``[[monitors.system]]``."""

    per_cpu: bool = attrs.field(default=False, metadata=option_doc(
        'also one `system_cpu` metric per logical core (tag `cpu` = `"0"`, `"1"`, ...)'))
    mountpoints: list[str] = attrs.field(factory=lambda: ["/"], metadata=option_doc(
        "filesystems reported in `system_disk`; one that cannot be read is logged once, skipped, and listed in "
        "`/health` as `missing_mountpoints`"))
    interfaces: list[str] = attrs.field(factory=list, metadata=option_doc(
        "network interfaces for `system_net`; empty = every interface except `lo`. A non-empty list is used "
        'exactly as written (list `"lo"` to get it)'))
    include_loopback: bool = attrs.field(default=False, metadata=option_doc("with `interfaces = []`, also report `lo`"))
    processes: list[str] = attrs.field(factory=list, metadata=option_doc(
        "names to report in `system_process`. A name matches a process whose name equals it, or whose command line "
        'has an argument whose base name equals it (`"server.py"` matches `python /app/server.py`; no substring '
        "matching)"))
    cgroup: bool = attrs.field(default=True, metadata=option_doc("report `system_cgroup` when cgroup files are found"))
    cgroup_root: str = attrs.field(default="/sys/fs/cgroup", metadata=option_doc(
        "where the cgroup filesystem is mounted (v2 is tried first: `cpu.max`, `memory.max`, `memory.current`; "
        "then v1: `cpu/cpu.cfs_quota_us`, `cpu/cpu.cfs_period_us`, `memory/memory.limit_in_bytes`, "
        "`memory/memory.usage_in_bytes`)"))
    source: str = attrs.field(default="host", metadata=option_doc("the `source` of every record"))


class SystemMonitor(Monitor):
    """Host resources via psutil; counters become per-second rates between collections."""

    name = "system"
    Options = SystemOptions

    def __init__(self, options: SystemOptions, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.options: SystemOptions = options
        self.hostname = socket.gethostname()
        self.sampler = HostSampler(
            per_cpu=options.per_cpu,
            mountpoints=options.mountpoints,
            cgroup_root=Path(options.cgroup_root) if options.cgroup else None,
            processes=ProcessSampler(options.processes) if options.processes else None,
        )
        self._net: CounterTracker[str] = CounterTracker()
        self._disk_io: CounterTracker[str] = CounterTracker()
        self._previous: HostSample | None = None
        self._baseline: HostSample | None = None  # the sample taken by open()
        self._sampling = threading.Lock()
        self._warned_mountpoints: set[str] = set()

    async def open(self) -> None:
        """Take a baseline sample so the first collection already has CPU shares and rates."""
        sample = await self._sample()
        self._update_rates(sample)
        self._previous = self._baseline = sample

    async def collect(self) -> Iterable[Record]:
        """Sample the host and return its metrics (plus an error event if the cgroup files are garbled)."""
        if self._previous is not None and self._previous is self._baseline:
            # Only right after open(): let the first window become meaningful. Later windows are the interval.
            remaining = MIN_WINDOW_S - (time.monotonic() - self._previous.at_s)
            if remaining > 0:
                await trio.sleep(remaining)
        sample = await self._sample()
        records = self._records(sample) + self._rate_records(sample, self._previous)
        self._previous = sample
        return records

    async def _sample(self) -> HostSample:
        # A read stuck on a dead network mount must not block the agent's timeout: the thread is abandoned on
        # cancel. The lock is released by the thread itself, so later collections see a stuck read and refuse.
        if self._sampling.locked():
            raise SourceUnavailable("the previous host sample is still running (a stuck mount?)")
        return await trio.to_thread.run_sync(self._sample_in_thread, abandon_on_cancel=True)

    def _sample_in_thread(self) -> HostSample:
        with self._sampling:
            return self.sampler.sample()

    def _update_rates(self, sample: HostSample) -> tuple[dict[str, float] | None, dict[str, dict[str, float]]]:
        """Feed the counters to the trackers; return disk I/O rates and rates per wanted interface (if any)."""
        disk_rates = None
        if sample.disk_io is not None:
            disk_rates = _rates(self._disk_io.update("all", sample.disk_io, sample.at_s))
        net_rates = {}
        self._net.retain(set(sample.net))
        for nic, counters in sample.net.items():
            rates = _rates(self._net.update(nic, counters, sample.at_s))  # None: first sight or a counter reset
            if rates is not None:
                net_rates[nic] = rates
        return disk_rates, net_rates

    def _metric(self, sample: HostSample, name: str, fields: dict, **tags: str) -> Metric:
        return Metric(name, fields, sample.time_ns, {"host": self.hostname, **tags}, self.options.source)

    def _records(self, sample: HostSample) -> list[Record]:
        records: list[Record] = []
        records.append(self._metric(sample, "system_memory", _usage_fields(sample.memory, "available")))
        records.append(self._metric(sample, "system_swap", _usage_fields(sample.swap)))
        for mountpoint, usage in sample.disks.items():
            records.append(self._metric(sample, "system_disk", _usage_fields(usage), mountpoint=mountpoint))
        for mountpoint in set(sample.missing_mountpoints) - self._warned_mountpoints:
            self.log.warning("mountpoint %s cannot be read (not mounted?); skipping it", mountpoint)
            self._warned_mountpoints.add(mountpoint)
        self.runtime.stats.extra["missing_mountpoints"] = sample.missing_mountpoints
        if sample.load is not None:
            load1, load5, load15 = sample.load
            records.append(self._metric(sample, "system_load", {"load1": load1, "load5": load5, "load15": load15}))
        for process, totals in sample.processes.items():
            fields = attrs.asdict(totals) if totals.count else {"count": 0}
            records.append(self._metric(sample, "system_process", fields, process=process))
        records += self._cgroup_records(sample)
        return records

    def _cgroup_records(self, sample: HostSample) -> list[Record]:
        if sample.cgroup_error is not None:  # the one builder of a source's bad answer (counted as malformed)
            return [endpoint_error_event(self.runtime, EndpointError(self.options.cgroup_root, sample.cgroup_error))]
        fields = cgroup_fields(sample.cgroup) if sample.cgroup is not None else None
        return [] if fields is None else [self._metric(sample, "system_cgroup", fields)]

    def _wanted_interface(self, nic: str) -> bool:
        if self.options.interfaces:  # an explicit list wins, loopback included if listed
            return nic in self.options.interfaces
        return nic != "lo" or self.options.include_loopback

    def _rate_records(self, sample: HostSample, previous: HostSample | None) -> list[Record]:
        """Metrics that need the previous sample: CPU shares, disk and network I/O rates."""
        records: list[Record] = []
        if previous is not None:
            shares = cpu_shares(previous.cpu_times, sample.cpu_times)
            if shares is not None:
                fields = {**shares, "logical_cpus": sample.cpu_count}
                records.append(self._metric(sample, "system_cpu", fields, cpu="total"))
            for index, (before, now) in enumerate(zip(previous.per_cpu_times, sample.per_cpu_times, strict=False)):
                shares = cpu_shares(before, now)
                if shares is not None:
                    records.append(self._metric(sample, "system_cpu", shares, cpu=str(index)))
        disk_rates, net_rates = self._update_rates(sample)
        if sample.disk_io is not None:
            records.append(self._metric(sample, "system_diskio", _counter_fields(sample.disk_io, disk_rates)))
        for nic, counters in sample.net.items():
            if self._wanted_interface(nic):
                fields = _counter_fields(counters, net_rates.get(nic))
                records.append(self._metric(sample, "system_net", fields, interface=nic))
        return records


def _rates(delta: CounterDelta | None) -> dict[str, float] | None:
    """Per-second rates, or None for a first reading or an interval across a counter reset (a 32-bit wrap looks the
    same): a rate across it would be a huge or negative lie."""
    return None if delta is None or delta.from_zero else delta.rates()


def _counter_fields(counters: dict[str, float], rates: dict[str, float] | None) -> dict[str, float]:
    """``<counter>_total`` always; ``<counter>_per_s`` only when a rate exists (not after a counter reset)."""
    fields = {f"{key}_total": value for key, value in counters.items()}
    fields.update({f"{key}_per_s": round(rate, 3) for key, rate in (rates or {}).items()})
    return fields


def _usage_fields(usage: dict[str, Any], *extra: str) -> dict[str, float]:
    """Fields of a psutil usage tuple (memory, swap, disk) as a dict: sizes in bytes, ``used_percent``."""
    fields = {f"{key}_bytes": usage[key] for key in ("total", *extra, "used", "free")}
    fields["used_percent"] = usage["percent"]
    return fields
