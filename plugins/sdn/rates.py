"""Per-port rates from successive counter samples, robust to counter resets.

A rate needs two samples of the same port: ``Δcounter / Δt`` where ``Δt`` is the time between the two answers (the
``sdn_port`` records carry those times, so anyone can check the arithmetic). When any counter goes backwards, or
the port's uptime does, the switch restarted: that interval is skipped (no rate is better than a huge negative
one) and the new sample becomes the baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flcollector import Metric

from .stats import COUNTERS
from .topology import SOURCE

Key = tuple[str, Any]  # (switch dpid, port number)
Sample = tuple[int, Mapping[str, int]]  # (time_ns, counters)

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


class PortRates:
    """Remembers the last sample of every port; :meth:`rates` is pure, :meth:`commit` moves the baseline."""

    def __init__(self) -> None:
        self.previous: dict[Key, Sample] = {}
        self.resets = 0

    def rates(
        self, dpid: str, time_ns: int, ports: Iterable[Mapping[str, Any]]
    ) -> tuple[list[Metric], dict[Key, Sample]]:
        """Return the ``sdn_port`` metrics of one switch's answer and the samples to commit."""
        metrics: list[Metric] = []
        samples: dict[Key, Sample] = {}
        for port in ports:
            key = (dpid, port["port_no"])
            samples[key] = (time_ns, port)
            before = self.previous.get(key)
            if before is None:
                continue
            then, old = before
            elapsed = (time_ns - then) / 1e9
            deltas = {name: port[name] - old[name] for name in COUNTERS}
            if elapsed <= 0:
                continue
            if min(deltas.values()) < 0 or port.get("duration_sec", 0) < old.get("duration_sec", 0):
                self.resets += 1  # counted even if the poll is repeated; it is a diagnostic, not data
                continue
            fields: dict[str, float | int] = {
                rate: deltas[name] * (8 if name.endswith("bytes") else 1) / elapsed
                for name, rate in RATE_FIELDS.items()
            }
            fields.update(rx_bytes=port["rx_bytes"], tx_bytes=port["tx_bytes"], interval_s=elapsed)
            metrics.append(Metric("sdn_port", fields, time_ns, {"switch": dpid, "port": str(port["port_no"])}, SOURCE))
        return metrics, samples

    def commit(self, samples: Mapping[Key, Sample], switches: Iterable[str] | None) -> None:
        """Make ``samples`` the baseline; forget ports of switches no longer present (when the list is known)."""
        self.previous.update(samples)
        if switches is not None:
            present = set(switches)
            for key in [k for k in self.previous if k[0] not in present]:
                del self.previous[key]
