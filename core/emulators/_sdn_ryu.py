"""FLOPY-NET's controller: ``PolicySwitchRESTController`` (``src/networking/sdn/apps/policy_switch_api.py``) over
``PolicySwitchCore``'s state, behind ``rest_topology``'s ``/v1.0/topology/*`` (see :mod:`._sdn_rest_topology`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._sdn_openflow import flopynet_entry, flopynet_key
from ._sdn_rest_topology import policy_switch_topology, rest_topology_routes

if TYPE_CHECKING:
    from .sdn_controller import SdnControllerEmulator

_HEX = set("0123456789abcdefABCDEF")


def flopynet_dpid(given: str) -> int:
    """The DPID of a path segment as ``get_port_stats`` / ``get_flow_entry_stats`` read it: with ``0x`` and ``:``
    removed, all hex digits means hex ("Try parsing as hex first"), else decimal; ValueError otherwise."""
    clean = given.replace("0x", "").replace(":", "").strip()
    try:
        return int(clean, 16) if all(c in _HEX for c in clean) else int(given)
    except ValueError:
        return int(given)  # raises, with Python's message, as upstream's fallback does


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def performance(emu: SdnControllerEmulator) -> dict[str, Any]:
    """``PolicySwitchCore.get_performance_metrics``: bandwidth from the controller's per-port rates, a latency
    "simulated" from them, a health score, and the cumulative totals of its stats loop."""
    values = [rx + tx for rx, tx in emu.rates.values() if rx > 0 or tx > 0]
    latencies = [max(5, min(100, 50 - bps / 1_000_000)) for bps in values]
    errors = sum(1 for c in emu.counters.values() if c["rx_errors"] > 0 or c["tx_errors"] > 0)
    ports = {"total": len(emu.ports), "up": len(values), "errors": errors}
    latency: dict[str, float] = {"average_ms": 0, "min_ms": 0, "max_ms": 0}
    if latencies:
        latency = {"average_ms": sum(latencies) / len(latencies), "min_ms": min(latencies), "max_ms": max(latencies)}
    health = 100 - (20 if latency["average_ms"] > 50 else 10 if latency["average_ms"] > 30 else 0)
    health -= int(errors / max(ports["total"], 1) * 30) if errors else 0
    health -= 15 if ports["up"] < ports["total"] * 0.8 else 0
    uptime = time.time() - emu.started
    total = emu.cumulative
    megabytes = total["total_bytes_transferred"] / (1024 * 1024)
    flows = [f for fs in emu.flows.values() for f in fs]
    return {
        "bandwidth": {
            "current_total_bps": sum(values),
            "current_average_bps": sum(values) / len(values) if values else 0,
            "active_ports": len(values),
            "peak_bandwidth_bps": total["peak_bandwidth"],
        },
        "latency": latency,
        "packet_loss": 0,
        "flows": {"total": len(flows), "active": sum(1 for f in flows if f.stats_seen and f.packet_count > 0)},
        "ports": ports,
        "health_score": max(0, min(100, health)),
        "timestamp": time.time(),
        "totals": {
            "bytes_transferred": total["total_bytes_transferred"],
            "megabytes_transferred": round(megabytes, 2),
            "gigabytes_transferred": round(megabytes / 1024, 3),
            "packets_transferred": total["total_packets_transferred"],
            "flows_created": total["total_flows_created"],
            "total_errors": total["total_errors"],
            "uptime_seconds": round(uptime, 1),
            "uptime_minutes": round(uptime / 60, 1),
            "uptime_hours": round(uptime / 3600, 2),
        },
        "rates": {
            "bytes_per_second": total["total_bytes_transferred"] / uptime if uptime > 0 else 0,
            "packets_per_second": total["total_packets_transferred"] / uptime if uptime > 0 else 0,
            "flows_per_hour": total["total_flows_created"] / (uptime / 3600) if uptime > 0 else 0,
        },
    }


def ryu_routes(emu: SdnControllerEmulator) -> list[BaseRoute]:
    """FLOPY-NET's routes, in the order Ryu's mapper tries them (``rest_topology``'s first)."""

    def entries() -> dict[str, dict[str, Any]]:
        return {
            flopynet_key(flow, emu.key_salt): flopynet_entry(flow, emu.last_stats)
            for dpid in emu.dpids
            for flow in emu.flows[dpid]
        }

    def topology(part: str) -> Any:
        async def answer(request: Request) -> Response:
            """``get_topology_*`` / ``get_*_stats``: ``PolicySwitchCore.get_switches|get_links|get_hosts``."""
            return JSONResponse(policy_switch_topology(emu)[part])

        return answer

    async def flows(request: Request) -> Response:
        """``get_flows_stats``: ``PolicySwitchCore.get_flows()``, every entry of every switch by its key."""
        return JSONResponse(entries())

    async def port_stats(request: Request) -> Response:
        """``get_port_stats``: ``{"<dpid as given>": [port stats]}`` for the switch's topology ports; 404 for an
        unknown switch; ``duration_sec`` counts from the switch's connection; ``rx_bps``/``tx_bps`` are the
        controller's own rates."""
        given = request.path_params["dpid"]
        try:
            dpid = flopynet_dpid(given)
        except ValueError as exc:
            return _error(f"Invalid DPID format: {exc}", 400)
        if dpid not in emu.dpids:
            return _error(f"Switch {given} not found", 404)
        await emu.per_switch_request()
        uptime = int(time.time() - emu.connected_at[dpid])
        items = []
        for item in emu.port_stats(dpid):
            rx_bps, tx_bps = emu.rates.get((dpid, item["port_no"]), (0, 0))
            items.append({**item, "duration_sec": uptime, "duration_nsec": 0, "rx_bps": rx_bps, "tx_bps": tx_bps})
        return JSONResponse({given: items})

    async def flow_entries(request: Request) -> Response:
        """``get_flow_entry_stats``: ``{"<decimal dpid>": [entries of that switch]}``; an unknown switch has none."""
        try:
            dpid = flopynet_dpid(request.path_params["dpid"])
        except ValueError as exc:
            return _error(f"Invalid DPID format: {exc}", 400)
        await emu.per_switch_request()
        return JSONResponse({str(dpid): [e for e in entries().values() if e["datapath_id"] == dpid]})

    async def flow_statistics(request: Request) -> Response:
        """``get_flow_statistics`` (``/stats/flow/``, with the slash): counts per switch and totals."""
        by_switch: dict[str, dict[str, int]] = {}
        for entry in entries().values():
            row = by_switch.setdefault(str(entry["datapath_id"]), {"count": 0, "active": 0, "bytes": 0, "packets": 0})
            row["count"] += 1
            if entry.get("packet_count", 0) > 0:
                row["active"] += 1
                row["packets"] += entry["packet_count"]
                row["bytes"] += entry.get("byte_count", 0)
        total, active = sum(r["count"] for r in by_switch.values()), sum(r["active"] for r in by_switch.values())
        byte_total = sum(r["bytes"] for r in by_switch.values())
        return JSONResponse(
            {
                "total_flows": total,
                "active_flows": active,
                "flows_by_switch": by_switch,
                "total_packets": sum(r["packets"] for r in by_switch.values()),
                "total_bytes": byte_total,
                "efficiency_score": min(100, int(active / total * 70) + 20) if total else 0,
                "utilization": min(1.0, byte_total / (len(emu.dpids) * 1e9)) if byte_total else 0,
                "timestamp": time.time(),
            }
        )

    async def perf(request: Request) -> Response:
        """``get_performance_metrics``."""
        return JSONResponse(performance(emu))

    async def status(request: Request) -> Response:
        """``get_status``."""
        return JSONResponse(
            {
                "switches_connected": len(emu.dpids),
                "hosts_learned": len(emu.hosts),
                "links_discovered": len(emu.links),
                "policies_active": 0,
                "policy_engine_available": True,
                "policy_engine_url": "http://policy-engine:5000",
                "timestamp": time.time(),
            }
        )

    async def health(request: Request) -> Response:
        """``get_health``."""
        uptime = time.time() - emu.started
        body = {"status": "healthy", "uptime_seconds": uptime, "switches": len(emu.dpids)}
        return JSONResponse({**body, "policy_engine_connected": True, "timestamp": time.time()})

    own_topology = [Route(f"/v1.0/topology/{part}", topology(part)) for part in ("switches", "links", "hosts")]
    first = rest_topology_routes(emu) if emu.topology_app == "rest_topology" else own_topology
    return [
        *first,
        *(Route(f"/stats/{part}", topology(part)) for part in ("switches", "links", "hosts")),
        Route("/stats/flows", flows),
        Route("/api/performance/metrics", perf),
        Route("/stats/flow/", flow_statistics),
        Route("/status", status),
        Route("/health", health),
        Route("/stats/port/{dpid}", port_stats),
        Route("/stats/flowentry/{dpid}", flow_entries),
    ]
