"""The Ryu flavour of the SDN controller emulator: FLOPY-NET's controller REST shapes (reference §2.5)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from .base import json_error

if TYPE_CHECKING:
    from .sdn_controller import SdnControllerEmulator


def parse_dpid(text: str) -> int | None:
    """Return the DPID of a path segment: 16 hex digits, or decimal (the controller accepts both)."""
    try:
        return int(text, 16) if len(text) == 16 else int(text)
    except ValueError:
        return None


def performance(emu: SdnControllerEmulator) -> dict[str, Any]:
    """The controller's ``/api/performance/metrics`` document, derived from the counters."""
    uptime = max(time.time() - emu.started, 1e-3)
    total_bytes = sum(c["rx_bytes"] + c["tx_bytes"] for c in emu.counters.values())
    packets = sum(c["rx_packets"] + c["tx_packets"] for c in emu.counters.values())
    errors = sum(c["rx_errors"] + c["tx_errors"] for c in emu.counters.values())
    flows = [f for fs in emu.flows.values() for f in fs]
    up = sum(1 for p in emu.ports.values() if p["up"])
    average_ms = 2.0 + emu.ticks % 3
    return {
        "bandwidth": {
            "current_total_bps": total_bytes * 8 / uptime,
            "current_average_bps": total_bytes * 8 / uptime / max(up, 1),
            "active_ports": up,
            "peak_bandwidth_bps": total_bytes * 8 / uptime,
        },
        "latency": {"average_ms": average_ms, "min_ms": average_ms - 1, "max_ms": average_ms + 1},
        "packet_loss": 0,
        "flows": {"total": len(flows), "active": sum(1 for f in flows if f["packet_count"])},
        "ports": {"total": len(emu.ports), "up": up, "errors": errors},
        "health_score": 95,
        "timestamp": time.time(),
        "totals": {
            "bytes_transferred": total_bytes,
            "megabytes_transferred": total_bytes / 1e6,
            "gigabytes_transferred": total_bytes / 1e9,
            "packets_transferred": packets,
            "flows_created": len(flows),
            "total_errors": errors,
            "uptime_seconds": uptime,
            "uptime_minutes": uptime / 60,
            "uptime_hours": uptime / 3600,
        },
        "rates": {
            "bytes_per_second": total_bytes / uptime,
            "packets_per_second": packets / uptime,
            "flows_per_hour": len(flows) / uptime * 3600,
        },
    }


def ryu_routes(emu: SdnControllerEmulator) -> list[BaseRoute]:
    """Routes of FLOPY-NET's Ryu controller (``ofctl_rest``'s ``/stats/flow/<dpid>`` only when enabled)."""

    def switches() -> list[dict[str, Any]]:
        return [
            {
                "dpid": f"{dpid:016x}",
                "ports": [
                    {"port_no": port, "hw_addr": info["hw_addr"], "name": info["name"], "state": 0 if info["up"] else 1}
                    for (d, port), info in sorted(emu.ports.items())
                    if d == dpid
                ],
            }
            for dpid in emu.switch_ids
        ]

    async def topology_switches(request: Request) -> JSONResponse:
        return JSONResponse(switches())

    async def topology_links(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {"src": {"dpid": s, "port_no": sp}, "dst": {"dpid": d, "port_no": dp}}
                for s, sp, d, dp in sorted(emu.links)
            ]
        )

    async def topology_hosts(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {"mac": mac, "ipv4": h["ipv4"], "port": {"dpid": f"{h['dpid']:016x}", "port_no": h["port"]}}
                for mac, h in sorted(emu.hosts.items())
            ]
        )

    async def stats_switches(request: Request) -> JSONResponse:
        return JSONResponse(emu.switch_ids)

    async def port_stats(request: Request) -> JSONResponse:
        given = request.path_params["dpid"]
        dpid = parse_dpid(given)
        if dpid not in emu.switch_ids:
            return json_error(f"switch {given} not found", 404)
        await emu._per_switch_request()
        return JSONResponse({given: emu.port_stats(dpid)})

    def flow_items(dpid: int) -> list[dict[str, Any]]:
        now = time.time()
        return [
            {
                **{k: v for k, v in f.items() if k != "created_time"},
                "duration_sec": int(now - f["created_time"]),
                "duration_nsec": 0,
                "length": 96,
                "flags": 0,
            }
            for f in emu.flows.get(dpid, [])
        ]

    async def flows_of_switch(request: Request) -> JSONResponse:
        dpid = parse_dpid(request.path_params["dpid"])
        if dpid not in emu.switch_ids:
            return json_error("switch not found", 404)
        await emu._per_switch_request()
        return JSONResponse({str(dpid): flow_items(dpid)})

    async def all_flows(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                f"{dpid}_{i}": {**flow, "datapath_id": dpid}
                for dpid in emu.switch_ids
                for i, flow in enumerate(flow_items(dpid))
            }
        )

    async def perf(request: Request) -> JSONResponse:
        return JSONResponse(performance(emu))

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "healthy",
                "uptime_seconds": time.time() - emu.started,
                "switches": len(emu.switch_ids),
                "policy_engine_connected": True,
                "timestamp": time.time(),
            }
        )

    routes: list[BaseRoute] = [
        Route("/v1.0/topology/switches", topology_switches),
        Route("/v1.0/topology/links", topology_links),
        Route("/v1.0/topology/hosts", topology_hosts),
        Route("/stats/switches", stats_switches),
        Route("/stats/port/{dpid}", port_stats),
        Route("/stats/flowentry/{dpid}", flows_of_switch),
        Route("/stats/flows", all_flows),
        Route("/api/performance/metrics", perf),
        Route("/health", health),
    ]
    if emu.ofctl_rest:
        routes.append(Route("/stats/flow/{dpid}", flows_of_switch))
    return routes
