"""The ``system`` monitor: CPU, memory, swap, disks, disk and network I/O rates, load, processes, cgroup limits."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from pathlib import Path

import attrs
import trio

from flcollector import Event, Metric, Monitor, Record, Runtime, SourceUnavailable

from .processes import ProcessSampler
from .rates import RateTracker, cpu_shares
from .sampling import HostSample, HostSampler

#: CPU shares and rates over a shorter window are mostly quantisation noise (the kernel ticks at 100-1000 Hz).
MIN_WINDOW_S = 0.25


@attrs.define
class SystemOptions:
    """Options of ``[[monitors.system]]``."""

    per_cpu: bool = False
    mountpoints: list[str] = attrs.Factory(lambda: ["/"])
    interfaces: list[str] = attrs.Factory(list)
    include_loopback: bool = False
    processes: list[str] = attrs.Factory(list)
    cgroup: bool = True
    cgroup_root: str = "/sys/fs/cgroup"
    source: str = "host"


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
        self._net = RateTracker()
        self._disk_io = RateTracker()
        self._previous: HostSample | None = None
        self._sampling = False
        self._warned_mountpoints: set[str] = set()

    async def open(self) -> None:
        """Take a baseline sample so the first collection already has CPU shares and rates."""
        self._remember(await self._sample())

    async def collect(self) -> Iterable[Record]:
        """Sample the host and return its metrics (plus an error event if the cgroup files are garbled)."""
        if self._previous is not None:
            remaining = MIN_WINDOW_S - (time.monotonic() - self._previous.at_s)
            if remaining > 0:  # only right after open(): let the first window become meaningful
                await trio.sleep(remaining)
        sample = await self._sample()
        previous, records = self._previous, self._records(sample)
        records += self._rate_records(sample, previous)
        self._remember(sample)
        return records

    async def _sample(self) -> HostSample:
        # A read stuck on a dead network mount must not pile up threads: abandon it on timeout, refuse overlap.
        if self._sampling:
            raise SourceUnavailable("the previous host sample is still running (a stuck mount?)")
        self._sampling = True
        try:
            return await trio.to_thread.run_sync(self.sampler.sample, abandon_on_cancel=True)
        finally:
            self._sampling = False

    def _remember(self, sample: HostSample) -> None:
        self._previous = sample
        self._net.retain(set(sample.net))
        self._disk_io.update("all", sample.disk_io or {}, sample.at_s)
        for nic, counters in sample.net.items():
            self._net.update(nic, counters, sample.at_s)

    def _metric(self, sample: HostSample, name: str, fields: dict, **tags: str) -> Metric:
        return Metric(name, fields, sample.time_ns, {"host": self.hostname, **tags}, self.options.source)

    def _records(self, sample: HostSample) -> list[Record]:
        records: list[Record] = []
        mem, swap = sample.memory, sample.swap
        records.append(self._metric(sample, "system_memory", {
            "total_bytes": mem["total"], "available_bytes": mem["available"], "used_bytes": mem["used"],
            "free_bytes": mem["free"], "used_percent": mem["percent"]}))
        records.append(self._metric(sample, "system_swap", {
            "total_bytes": swap["total"], "used_bytes": swap["used"], "free_bytes": swap["free"],
            "used_percent": swap["percent"]}))
        for mountpoint, usage in sample.disks.items():
            records.append(self._metric(sample, "system_disk", {
                "total_bytes": usage["total"], "used_bytes": usage["used"], "free_bytes": usage["free"],
                "used_percent": usage["percent"]}, mountpoint=mountpoint))
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
        if sample.cgroup_error is not None:
            self.runtime.stats.count("malformed")
            return [Event("MALFORMED_RESPONSE", f"cgroup files unreadable: {sample.cgroup_error}", sample.time_ns,
                          self.runtime.instance, "ERROR", {"error": sample.cgroup_error})]
        limits = sample.cgroup
        if limits is None or (limits.memory_usage_bytes is None and limits.memory_limit_bytes is None
                              and limits.cpu_limit_cores is None):
            return []
        # -1 means "unlimited", so the series keeps one shape whether or not a limit is set.
        fields: dict[str, float | int] = {
            "cgroup_version": limits.version,
            "cpu_limit_cores": -1 if limits.cpu_limit_cores is None else limits.cpu_limit_cores,
            "memory_limit_bytes": -1 if limits.memory_limit_bytes is None else limits.memory_limit_bytes,
        }
        if limits.memory_usage_bytes is not None:
            fields["memory_usage_bytes"] = limits.memory_usage_bytes
            if limits.memory_limit_bytes:
                fields["memory_used_percent"] = round(100 * limits.memory_usage_bytes / limits.memory_limit_bytes, 3)
        return [self._metric(sample, "system_cgroup", fields)]

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
        if sample.disk_io is not None:
            fields: dict[str, float] = {f"{key}_total": value for key, value in sample.disk_io.items()}
            rates = self._disk_io.update("all", sample.disk_io, sample.at_s)
            fields.update({f"{key}_per_s": round(rate, 3) for key, rate in (rates or {}).items()})
            records.append(self._metric(sample, "system_diskio", fields))
        for nic, counters in sample.net.items():
            if not self._wanted_interface(nic):
                continue
            fields = {f"{key}_total": value for key, value in counters.items()}
            rates = self._net.update(nic, counters, sample.at_s)  # None: first sight or counter reset
            fields.update({f"{key}_per_s": round(rate, 3) for key, rate in (rates or {}).items()})
            records.append(self._metric(sample, "system_net", fields, interface=nic))
        return records
