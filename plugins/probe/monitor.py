"""The ``probe`` monitor: active TCP-connect probes measuring latency, loss and jitter to configured targets.

Unreachability is the measurement here, not a failure of the monitor: a target that never answers still gets
a ``probe_tcp`` metric with ``loss_percent`` = 100, and the monitor never raises ``SourceUnavailable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import trio
from flcollector import Duration, Metric, Monitor, Record, Runtime, now_ns, option_doc

from .tcp import ProbeResult, parse_target, probe_target, summarize


def _check_targets(_instance: Any, _attribute: Any, targets: list[str]) -> None:
    for index, target in enumerate(targets):
        try:
            parse_target(target)
        except ValueError as exc:
            raise ValueError(f"targets[{index}]: {exc}") from None


def _check_labels(instance: ProbeOptions, _attribute: Any, labels: dict[str, str]) -> None:
    unknown = sorted(set(labels) - set(instance.targets))
    if unknown:
        raise ValueError(f"labels: {', '.join(map(repr, unknown))} not in targets ({', '.join(instance.targets)})")


def _positive(_instance: Any, attribute: Any, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be greater than 0, got {value!r}")


@attrs.define
class ProbeOptions:
    """Options of ``[[monitors.probe]]``."""

    targets: list[str] = attrs.field(factory=list, validator=_check_targets, metadata=option_doc(
        '`"host:port"` strings (IPv6 as `"[::1]:443"`). A malformed entry is a config error naming it, e.g. '
        "`targets[1]: 'fl-server' is not a valid target: expected 'host:port'`. With no targets the monitor emits "
        "nothing (and logs a warning)", example=["fl-server:8081", "policy-engine:5000"], set_in_sample=True))
    count: int = attrs.field(default=5, validator=_positive, metadata=option_doc(
        "probes per target per collection (≥ 1)"))
    probe_timeout: Duration = attrs.field(default=Duration(1.0), validator=_positive, metadata=option_doc(
        "a handshake not completed in time is lost (> 0)"))
    spacing: Duration = attrs.field(default=Duration(0.05), metadata=option_doc(
        "time between the starts of consecutive probes to one target (a cycle lasts at most `(count - 1) * spacing "
        "+ probe_timeout`)"))
    labels: dict[str, str] = attrs.field(factory=dict, validator=_check_labels, metadata=option_doc(
        'target → readable name, added as the tag `label`, e.g. `{"fl-server:8081" = "fl"}`; a key that is not in '
        "`targets` is a config error"))
    source: str = attrs.field(default="probe", metadata=option_doc("the `source` of every record"))


class ProbeMonitor(Monitor):
    """Probes every target concurrently; one ``probe_tcp`` metric per target per collection."""

    name = "probe"
    Options = ProbeOptions

    def __init__(self, options: ProbeOptions, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.options: ProbeOptions = options
        self.targets = {target: parse_target(target) for target in options.targets}

    async def open(self) -> None:
        """Warn about a probe instance with nothing to probe (allowed, but surely a config slip)."""
        if not self.targets:
            self.log.warning("probe monitor %s has no targets; it will emit nothing", self.runtime.instance)

    async def collect(self) -> Iterable[Record]:
        """Probe all targets at once and return one metric per target, in config order."""
        opts = self.options
        results: dict[str, list[ProbeResult]] = {}

        async def probe(target: str, host: str, port: int) -> None:
            results[target] = await probe_target(host, port, opts.count, opts.probe_timeout, opts.spacing)

        started_ns = now_ns()
        async with trio.open_nursery() as nursery:
            for target, (host, port) in self.targets.items():
                nursery.start_soon(probe, target, host, port)
        records: list[Record] = []
        for target in self.targets:
            tags = {"target": target}
            if target in opts.labels:
                tags["label"] = opts.labels[target]
            records.append(Metric("probe_tcp", summarize(results[target]), started_ns, tags, opts.source))
        return records
