"""Topology documents for the dashboard: the latest ``TOPOLOGY_SNAPSHOT`` joined with the latest ``network`` metric.

Upstream's link ends were integer DPIDs while switch DPIDs were 16-hex strings, so links never joined to nodes; and
``/api/network/topology`` always answered ``links: []``. Here link ends are normalised to the switches' spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flcollector import Event, Metric

from .contract import iso, now_iso, plain
from .data import DataView, number


def hex_dpid(value: Any) -> Any:
    """Return an integer DPID (or a decimal string of one) as upstream's 16-hex string; others unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"{value:016x}"
    if isinstance(value, str) and value.isdigit() and len(value) < 16:
        return f"{int(value):016x}"
    return value


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [dict(item) for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _switch(item: dict[str, Any]) -> dict[str, Any]:
    dpid = hex_dpid(item.get("dpid", item.get("id")))
    ports = []
    for port in _dicts(item.get("ports")):
        port.setdefault("state", "unknown")  # the dashboard reads ports[].state; some controllers omit it
        ports.append(port)
    return {**item, "dpid": dpid, "id": item.get("id", dpid), "type": "switch", "ports": ports}


def _host(item: dict[str, Any]) -> dict[str, Any]:
    mac = item.get("mac", item.get("id"))
    port = item.get("port")
    dpid = item.get("dpid")
    if isinstance(port, Mapping):  # the REST topology shape {port: {dpid, port_no}}
        dpid, port = port.get("dpid", dpid), port.get("port_no")
    ipv4 = item.get("ipv4")
    ip = item.get("ip") or (ipv4[0] if isinstance(ipv4, list) and ipv4 else None)
    if isinstance(ip, Mapping):
        ip = ip.get("address")
    return {
        **item,
        "id": item.get("id", mac),
        "mac": mac,
        "dpid": hex_dpid(dpid),
        "port": port,
        "ip": ip or "unknown",
        "type": "host",
    }


def _link(item: dict[str, Any]) -> dict[str, Any]:
    source, target = item.get("source"), item.get("target")
    src, dst = item.get("src"), item.get("dst")
    if isinstance(src, Mapping) and isinstance(dst, Mapping):  # the REST topology shape
        source, target = src.get("dpid"), dst.get("dpid")
        item.setdefault("source_port", src.get("port_no"))
        item.setdefault("target_port", dst.get("port_no"))
    return {**item, "source": hex_dpid(source), "target": hex_dpid(target), "type": item.get("type", "direct")}


def topology_document(snapshot: Event | None) -> dict[str, Any]:
    """Return ``{timestamp, nodes, links, switches, hosts, source}`` from a ``TOPOLOGY_SNAPSHOT`` (or empty)."""
    details = plain(snapshot.details) if snapshot is not None else {}
    switches = [_switch(s) for s in _dicts(details.get("switches"))]
    hosts = [_host(h) for h in _dicts(details.get("hosts"))]
    links = [_link(link) for link in _dicts(details.get("links"))]
    nodes = _dicts(details.get("nodes")) or [*switches, *hosts]
    return {
        "timestamp": iso(snapshot.time_ns) if snapshot is not None else None,
        "nodes": nodes,
        "links": links,
        "switches": switches,
        "hosts": hosts,
        "source": "sdn_controller",
    }


def statistics(topology: Mapping[str, Any]) -> dict[str, int]:
    """Return upstream's counts of a topology document."""
    return {
        "total_nodes": len(topology["nodes"]),
        "total_links": len(topology["links"]),
        "total_switches": len(topology["switches"]),
        "total_hosts": len(topology["hosts"]),
    }


def _field(metric: Metric | None, *names: str, default: Any = 0) -> Any:
    fields = metric.fields if metric is not None else {}
    for name in names:
        if name in fields:
            return fields[name]
    return default


def _section(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return plain(value) if isinstance(value, Mapping) else {}


def performance_section(metric: Metric | None, perf: Mapping[str, Any], switches: int) -> dict[str, Any]:
    """Return upstream's ``performance_metrics``: bandwidth, flows and latency from the metric and the snapshot."""
    latency, bandwidth, flows = (_section(perf, key) for key in ("latency", "bandwidth", "flows"))
    # The flat metric first; the performance snapshot fills in what an older or foreign producer left out.
    flows_total = number(_field(metric, "flows_total", "total_flows", default=None), number(flows.get("total")))
    active_ports = number(_field(metric, "active_ports", default=None), number(bandwidth.get("active_ports")))
    total_mbps = number(
        _field(metric, "bandwidth_total_mbps", default=None), number(bandwidth.get("current_total_bps")) / 1e6
    )
    latency_avg = _field(metric, "latency_avg_ms", "avg_latency_ms", default=None)
    return {
        "bandwidth": {
            "total_mbps": total_mbps,
            "average_mbps": number(
                _field(metric, "bandwidth_avg_mbps", default=None), total_mbps / active_ports if active_ports else 0.0
            ),
            "max_mbps": number(_field(metric, "bandwidth_max_mbps", default=None), 0.0),
            "active_ports": int(active_ports),
        },
        "flows": {
            "total": int(flows_total),
            "active": int(number(_field(metric, "flows_active", "active_flows", default=None), flows_total)),
            "per_switch_avg": flows_total / switches if switches else 0.0,
        },
        "latency": {**latency, "average_ms": number(latency_avg, number(latency.get("average_ms")))},
    }


async def network_document(view: DataView) -> tuple[dict[str, Any], Metric | None, Event | None]:
    """Return upstream's stored ``network`` row rebuilt from our records, with the records used."""
    metric = await view.latest_metric("network")
    snapshot = await view.latest_event("TOPOLOGY_SNAPSHOT")
    perf_event = await view.latest_event("PERFORMANCE_SNAPSHOT")
    configured, status, _error = view.monitor_status("sdn")
    # The SDN monitor finds the controller gone: the stored figures are the last seen before it went away.
    gone = configured and status in ("down", "error")
    if metric is None and snapshot is None:  # its timestamp is now: built on each request
        return _network_row(metric, snapshot, perf_event, gone), metric, snapshot
    sources = (metric, snapshot, perf_event, gone)
    return view.derived("network", sources, lambda: _network_row(metric, snapshot, perf_event, gone)), metric, snapshot


def _network_row(metric: Metric | None, snapshot: Event | None, perf_event: Event | None, gone: bool) -> dict[str, Any]:
    """Upstream's ``network`` row from the latest records (``gone``: the SDN monitor finds the controller down)."""
    topology = topology_document(snapshot)
    counts = statistics(topology)
    switches = int(number(_field(metric, "switches_count", default=None), counts["total_switches"]))
    newest = max((r.time_ns for r in (metric, snapshot) if r is not None), default=None)
    sdn_status = _field(metric, "sdn_status", default=None) or ("connected" if snapshot is not None else "unknown")
    if gone:
        sdn_status = "disconnected"
    return {
        "timestamp": iso(newest) if newest is not None else now_iso(),
        "status": ("ok" if switches else "error") if newest is not None else "no_data",
        "switches_count": switches,
        "hosts_count": int(number(_field(metric, "hosts_count", default=None), counts["total_hosts"])),
        "links_count": int(number(_field(metric, "links_count", default=None), counts["total_links"])),
        "sdn_status": sdn_status,
        "packet_loss_percent": number(_field(metric, "packet_loss_percent", "packet_loss")),
        "topology": topology,
        "performance_metrics": performance_section(metric, plain(perf_event.details) if perf_event else {}, switches),
    }


async def network_latest(view: DataView) -> dict[str, Any]:
    """``/api/metrics/latest?type=network``: always a non-empty ``metrics`` so the overview renders.

    With no SDN data yet, counts are 0 and ``sdn_status`` is ``"unknown"`` (upstream answered ``metrics: {}``,
    which the dashboard turns into a 502).
    """
    data, metric, snapshot = await network_document(view)
    source = metric.source if metric is not None else snapshot.source if snapshot is not None else None
    body: dict[str, Any] = {
        "status": "success",
        "timestamp": now_iso(),
        "metrics": {"timestamp": data["timestamp"], "metric_type": "network", "data": data, "source_component": source},
    }
    if metric is None and snapshot is None:
        body["message"] = "No network data collected yet"
    return body
