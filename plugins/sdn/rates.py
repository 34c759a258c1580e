"""Per-port rates from successive counter samples, robust to counter resets (the shared counter tracker).

A rate needs two samples of the same port: ``Δcounter / Δt`` where ``Δt`` is the time between the two answers (the
``sdn_port`` records carry those times, so anyone can check the arithmetic). When any counter goes backwards, or
the port's uptime does, the switch restarted: that interval is skipped (no rate is better than a huge negative
one) and the new sample becomes the baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flcollector import CounterTracker, Metric

from .stats import COUNTERS
from .topology import SOURCE

Key = tuple[str, Any]  # (switch dpid, port number)
Sample = tuple[int, Mapping[str, Any]]  # (time_ns, the port's counters and duration_sec)

#: rate field name for each counter
RATE_FIELDS = {
    "rx_bytes": "rx_bps",
    "tx_bytes": "tx_bps",
    "rx_packets": "rx_pps",
    "tx_packets": "tx_pps",
    "rx_dropped": "rx_drops_ps",
    "tx_dropped": "tx_drops_ps",
    "rx_errors": "rx_errors_ps",
    "tx_errors": "tx_errors_ps",
}


def _reading(port: Mapping[str, Any]) -> dict[str, float]:
    return {name: port[name] for name in COUNTERS}


class PortRates:
    """Remembers the last sample of every port; :meth:`rates` is pure, :meth:`commit` moves the baseline."""

    def __init__(self) -> None:
        self.counters: CounterTracker[Key] = CounterTracker()
        self.resets = 0

    def rates(
        self, dpid: str, time_ns: int, ports: Iterable[Mapping[str, Any]]
    ) -> tuple[list[Metric], dict[Key, Sample], int]:
        """Return the ``sdn_port`` metrics of one switch's answer, the samples to commit and the resets seen."""
        metrics: list[Metric] = []
        samples: dict[Key, Sample] = {}
        resets = 0
        for port in ports:
            key = (dpid, port["port_no"])
            samples[key] = (time_ns, port)
            delta = self.counters.delta(key, _reading(port), time_ns, uptime=port.get("duration_sec"))
            if delta is None:
                continue
            if delta.from_zero:
                resets += 1
                continue
            elapsed_s = delta.elapsed / 1e9  # readings are timed in int nanoseconds: exact intervals
            fields: dict[str, float | int] = {
                rate: delta.deltas[name] * (8 if name.endswith("bytes") else 1) / elapsed_s
                for name, rate in RATE_FIELDS.items()
            }
            fields.update(rx_bytes=port["rx_bytes"], tx_bytes=port["tx_bytes"], interval_s=elapsed_s)
            metrics.append(Metric("sdn_port", fields, time_ns, {"switch": dpid, "port": str(port["port_no"])}, SOURCE))
        return metrics, samples, resets

    def commit(self, samples: Mapping[Key, Sample], switches: Iterable[str] | None, resets: int = 0) -> None:
        """Make ``samples`` the baseline; forget ports of switches no longer present (when the list is known)."""
        for key, (time_ns, port) in samples.items():
            self.counters.remember(key, _reading(port), time_ns, uptime=port.get("duration_sec"))
        if switches is not None:
            present = set(switches)
            self.counters.retain([key for key in self.counters if key[0] in present])
        self.resets += resets
