"""The ``PERFORMANCE_SNAPSHOT`` document and the flat ``network`` metric, from one poll and its port rates.

The document has the controller's ``/api/performance/metrics`` sections (reference §2.5), which the dashboard reads
through ``/api/performance/metrics``. Where the controller has no such endpoint (ONOS), or leaves a figure out, the
figure is computed from port rates, port counters and flows; the controller's own figures win where it has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flcollector import Metric

from .poll import Poll


def _port_totals(ports: list[Metric]) -> dict[str, float]:
    totals = {"bps": 0.0, "max_bps": 0.0, "pps": 0.0, "drops_ps": 0.0, "errors_ps": 0.0, "active": 0}
    for metric in ports:
        f = metric.fields
        bps = float(f["rx_bps"]) + float(f["tx_bps"])
        totals["bps"] += bps
        totals["max_bps"] = max(totals["max_bps"], bps)
        totals["pps"] += float(f["rx_pps"]) + float(f["tx_pps"])
        totals["drops_ps"] += float(f["rx_drops_ps"]) + float(f["tx_drops_ps"])
        totals["errors_ps"] += float(f["rx_errors_ps"]) + float(f["tx_errors_ps"])
        totals["active"] += 1 if bps > 0 else 0
    return totals


def ports_up(ports: list[dict[str, Any]]) -> int | None:
    """Ports whose state is up; None when no port's state is known (Ryu's ``rest_topology`` reports none)."""
    if all(p["state"] == "unknown" for p in ports):
        return None
    return sum(1 for p in ports if p["state"] == "up")


def _loss_percent(ports: list[Metric]) -> float | None:
    totals = _port_totals(ports)
    seen = totals["pps"] + totals["drops_ps"]
    return 100.0 * totals["drops_ps"] / seen if ports and seen > 0 else None


def performance_document(poll: Poll, ports: list[Metric]) -> dict[str, Any]:
    """Return the performance document: computed sections, overlaid with the controller's."""
    computed: dict[str, Any] = {}
    if ports:
        t = _port_totals(ports)
        computed["bandwidth"] = {
            "current_total_bps": t["bps"],
            "current_average_bps": t["bps"] / t["active"] if t["active"] else 0.0,
            "peak_bandwidth_bps": t["max_bps"],
            "active_ports": int(t["active"]),
            "total_mbps": t["bps"] / 1e6,
        }
        computed["rates"] = {"packets_per_second": t["pps"], "bytes_per_second": t["bps"] / 8}
        computed["packet_loss"] = _loss_percent(ports)
    if poll.flows is not None:
        flows = [f for fs in poll.flows.values() for f in fs]
        computed["flows"] = {
            "total": len(flows),
            "active": sum(1 for f in flows if f["packet_count"] > 0),
            "per_switch_average": len(flows) / len(poll.flows) if poll.flows else 0.0,
        }
    counters = [c for _, items in poll.port_counters.values() for c in items]
    if counters:
        errors = sum(c["rx_errors"] + c["tx_errors"] for c in counters)
        computed["totals"] = {
            "packets_transferred": sum(c["rx_packets"] + c["tx_packets"] for c in counters),
            "bytes_transferred": sum(c["rx_bytes"] + c["tx_bytes"] for c in counters),
            "total_errors": errors,
        }
        computed["ports"] = {"total": len(counters), "errors": errors}
    if poll.switches is not None:
        all_ports = [p for s in poll.switches for p in s["ports"]]
        computed.setdefault("ports", {})["total"] = len(all_ports)
        if (up := ports_up(all_ports)) is not None:
            computed["ports"]["up"] = up
    document = dict(computed)
    for key, value in (poll.performance or {}).items():
        if isinstance(value, Mapping) and isinstance(computed.get(key), Mapping):
            document[key] = {**computed[key], **value}
        else:
            document[key] = value
    document["source"] = "controller" if poll.performance is not None else "computed"
    return document


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def network_fields(poll: Poll, ports: list[Metric], performance: Mapping[str, Any], controller: str) -> dict[str, Any]:
    """The flat ``network`` metric fields (names the dashboard reads, see PLUGINS.md)."""
    fields: dict[str, Any] = {"sdn_status": "connected", "controller": controller}
    for name, items in (("switches", poll.switches), ("hosts", poll.hosts), ("links", poll.links)):
        if items is not None:
            fields[f"{name}_count"] = len(items)
    if poll.switches is not None:
        all_ports = [p for s in poll.switches for p in s["ports"]]
        fields["ports_total"] = len(all_ports)
        if (up := ports_up(all_ports)) is not None:
            fields["ports_up"] = up
    if poll.flows is not None:
        flows = [f for fs in poll.flows.values() for f in fs]
        fields["flows_total"] = len(flows)
        fields["flows_active"] = sum(1 for f in flows if f["packet_count"] > 0)
    if ports:
        t = _port_totals(ports)
        fields["active_ports"] = int(t["active"])
        fields["bandwidth_total_mbps"] = t["bps"] / 1e6
        fields["bandwidth_avg_mbps"] = t["bps"] / t["active"] / 1e6 if t["active"] else 0.0
        fields["bandwidth_max_mbps"] = t["max_bps"] / 1e6
    loss = _number((poll.performance or {}).get("packet_loss"))
    loss = loss if loss is not None else _loss_percent(ports)
    if loss is not None:
        fields["packet_loss_percent"] = loss
    raw = performance.get("latency")
    latency: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    average = _number(latency.get("average_ms"))
    if average is not None and not latency.get("estimated"):  # upstream's fallback "5.0, estimated" is no figure
        fields["latency_avg_ms"] = average
    return fields
