"""Flow tables and performance figures for the dashboard, from the latest ``FLOW_SNAPSHOT`` and
``PERFORMANCE_SNAPSHOT`` events and the ``network`` metric.

Upstream's health and efficiency scores read keys that never existed, so they were constants (§5 #16); here they are
computed from the real figures, and the formula is documented in PLUGINS.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from flcollector import Metric

from .contract import plain
from .data import number
from .topology import hex_dpid


def flow_item(flow: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Return one ``/api/network/flows`` item: the controller's fields plus upstream's switch naming."""
    item = dict(flow)
    raw = item.get("switch_dpid", item.get("datapath_id", item.get("dpid")))
    dpid = hex_dpid(raw)
    item["switch_dpid"] = dpid
    item.setdefault("switch_name", f"Switch-{dpid}")
    if isinstance(dpid, str):
        try:
            item.setdefault("datapath_id_hex", hex(int(dpid, 16)))
        except ValueError:
            pass
    item.setdefault("flow_id", key)
    item.setdefault("priority", 0)
    item.setdefault("table_id", 0)
    return item


def flows_of(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the flows of a ``FLOW_SNAPSHOT`` (a list, or the controller's ``{flow_key: flow}`` dict)."""
    raw = details.get("flows")
    if isinstance(raw, Mapping):
        pairs = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        pairs = [(str(i), v) for i, v in enumerate(raw)]
    else:
        pairs = []
    return [flow_item(flow, key) for key, flow in pairs if isinstance(flow, Mapping)]


def flow_summary(flows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return upstream's ``summary``: totals and counts by priority and table."""
    return {
        "total_flows": len(flows),
        "switches_with_flows": len({f["switch_dpid"] for f in flows}),
        "priority_stats": dict(Counter(str(f.get("priority")) for f in flows)),
        "table_stats": dict(Counter(str(f.get("table_id")) for f in flows)),
    }


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "any"
    if isinstance(value, list):
        return "; ".join(_describe(v) for v in value) or "none"
    return "none" if value is None else str(value)


def flow_statistics(flows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return ``(flow_statistics, utilization_metrics)`` for ``/api/flows/statistics``.

    A flow is active when it has matched at least one packet; efficiency is the share of active flows.
    """
    per_switch: dict[str, list[dict[str, Any]]] = {}
    for flow in flows:
        per_switch.setdefault(str(flow["switch_dpid"]), []).append(
            {
                key: flow.get(key, 0)
                for key in (
                    "priority",
                    "table_id",
                    "duration_sec",
                    "packet_count",
                    "byte_count",
                    "idle_timeout",
                    "hard_timeout",
                    "cookie",
                )
            }
            | {
                "match_description": _describe(flow.get("match")),
                "action_description": _describe(flow.get("actions", flow.get("instructions"))),
            }
        )
    total = len(flows)
    active = sum(1 for f in flows if number(f.get("packet_count")) > 0)
    efficiency = 100.0 * active / total if total else 0.0
    per_switch_avg = total / len(per_switch) if per_switch else 0.0
    counts = {dpid: len(rows) for dpid, rows in per_switch.items()}
    priorities = dict(Counter(str(f.get("priority")) for f in flows))
    tables = dict(Counter(str(f.get("table_id")) for f in flows))
    stats = {
        "total_flows": total,
        "active_flows": active,
        "idle_flows": total - active,
        # The dashboard's get_flow_statistics takes len() of it as the switch count and shows it by switch.
        "flows_per_switch": counts,
        "average_flows_per_switch": per_switch_avg,
        "switch_flow_counts": counts,
        "priority_distribution": priorities,
        "table_distribution": tables,
        "flows": per_switch,
    }
    rating = "excellent" if efficiency >= 80 else "good" if efficiency >= 60 else "fair" if efficiency >= 40 else "poor"
    utilization = {
        "efficiency_percentage": efficiency,
        "total_flows": total,
        "active_flows": active,
        "idle_flows": total - active,
        "flows_per_switch": counts,
        "average_flows_per_switch": per_switch_avg,
        "priority_distribution": priorities,
        "table_distribution": tables,
        "efficiency_rating": rating if total else "unknown",
    }
    return stats, utilization


def _section(perf: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = perf.get(name)
    return plain(value) if isinstance(value, Mapping) else {}


def performance(perf: Mapping[str, Any], metric: Metric | None) -> dict[str, Any]:
    """Return the ``/api/performance/metrics`` body (without timestamps): the controller's figures, completed from
    the ``network`` metric, plus ``network_health``."""
    fields = metric.fields if metric is not None else {}
    bandwidth, latency = _section(perf, "bandwidth"), _section(perf, "latency")
    flows, ports = _section(perf, "flows"), _section(perf, "ports")
    total_mbps = number(fields.get("bandwidth_total_mbps"))
    bandwidth.setdefault("current_total_bps", total_mbps * 1e6)
    bandwidth.setdefault("current_average_bps", 0.0)
    bandwidth.setdefault("peak_bandwidth_bps", bandwidth["current_total_bps"])
    bandwidth.setdefault("active_ports", int(number(fields.get("active_ports"))))
    # in step with current_total_bps, which may be the controller's own figure while the computed total_mbps is ours
    bandwidth["total_mbps"] = number(bandwidth["current_total_bps"]) / 1e6
    average = latency.get("average_ms", fields.get("latency_avg_ms"))
    latency = {
        **latency,
        "average_ms": number(average),
        "min_ms": number(latency.get("min_ms", average)),
        "max_ms": number(latency.get("max_ms", average)),
    }
    switches = number(fields.get("switches_count"))
    flows.setdefault("total", int(number(fields.get("flows_total"))))
    flows.setdefault("active", flows["total"])
    flows.setdefault("per_switch_average", number(flows["total"]) / switches if switches else 0.0)
    ports.setdefault("total", int(number(fields.get("ports_total"))))
    ports.setdefault("up", int(number(fields.get("ports_up"))))
    ports.setdefault("errors", 0)
    totals = {
        "packets_transferred": 0,
        "bytes_transferred": 0,
        "total_errors": 0,
        "uptime_seconds": 0,
        **_section(perf, "totals"),
    }
    rates = {"packets_per_second": 0.0, "bytes_per_second": 0.0, "flows_per_hour": 0.0, **_section(perf, "rates")}
    loss = number(perf.get("packet_loss", fields.get("packet_loss_percent")))
    health = network_health(latency, ports, totals, flows, switches, loss, known=bool(perf or fields))
    score = perf.get("health_score")
    return {
        "bandwidth": bandwidth,
        "latency": latency,
        "flows": flows,
        "ports": ports,
        "totals": totals,
        "rates": rates,
        "packet_loss": loss,
        "network_health": health,
        "health_score": score if isinstance(score, int | float) else health["score"],
    }


def network_health(
    latency: Mapping[str, Any],
    ports: Mapping[str, Any],
    totals: Mapping[str, Any],
    flows: Mapping[str, Any],
    switches: float,
    loss_percent: float,
    *,
    known: bool,
) -> dict[str, Any]:
    """Score the network 0-100 from real figures: 100 minus impacts of latency (0 at <=10 ms, 30 at >=100 ms),
    ports down (up to 20), errors and loss (up to 30) and switches without flows (20)."""
    if not known:
        return {"score": 0.0, "status": "unknown", "factors": {}}
    latency_impact = min(30.0, max(0.0, (number(latency.get("average_ms")) - 10.0) / 90.0 * 30.0))
    total_ports, up_ports = number(ports.get("total")), number(ports.get("up"))
    bandwidth_impact = 20.0 * (1.0 - up_ports / total_ports) if total_ports else 0.0
    packets = number(totals.get("packets_transferred"))
    error_rate = number(totals.get("total_errors", ports.get("errors"))) / packets if packets else 0.0
    error_impact = min(30.0, error_rate * 1000.0 + loss_percent * 2.0)
    flow_impact = 20.0 if switches and not number(flows.get("total")) else 0.0
    score = round(max(0.0, 100.0 - latency_impact - bandwidth_impact - error_impact - flow_impact), 1)
    status = "excellent" if score >= 85 else "good" if score >= 70 else "fair" if score >= 50 else "poor"
    return {
        "score": score,
        "status": status,
        "factors": {
            "latency_impact": round(latency_impact, 2),
            "bandwidth_impact": round(bandwidth_impact, 2),
            "error_impact": round(error_impact, 2),
            "flow_impact": flow_impact,
        },
    }
