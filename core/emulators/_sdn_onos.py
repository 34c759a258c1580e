"""The ONOS flavour of the SDN controller emulator: ``/onos/v1/...`` shapes behind HTTP Basic auth."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .base import json_error

if TYPE_CHECKING:
    from .sdn_controller import SdnControllerEmulator

Handler = Callable[[Request], Awaitable[Response]]
ONOS_COUNTERS = {
    "rx_packets": "packetsReceived",
    "tx_packets": "packetsSent",
    "rx_bytes": "bytesReceived",
    "tx_bytes": "bytesSent",
    "rx_dropped": "packetsRxDropped",
    "tx_dropped": "packetsTxDropped",
    "rx_errors": "packetsRxErrors",
    "tx_errors": "packetsTxErrors",
}


def device_id(dpid: int) -> str:
    """ONOS's id of an OpenFlow switch."""
    return f"of:{dpid:016x}"


def onos_routes(emu: SdnControllerEmulator) -> list[BaseRoute]:
    """Routes of the ONOS REST API subset the ``sdn`` monitor reads."""

    def guarded(handler: Handler) -> Handler:
        async def check(request: Request) -> Response:
            if not emu.authorised(request):
                return JSONResponse(
                    {"code": 401, "message": "Unauthorized"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="karaf"'},
                )
            return await handler(request)

        return check

    async def devices(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "devices": [
                    {
                        "id": device_id(dpid),
                        "type": "SWITCH",
                        "available": True,
                        "role": "MASTER",
                        "mfr": "Nicira, Inc.",
                        "hw": "Open vSwitch",
                        "sw": "3.1.0",
                        "serial": "None",
                        "driver": "ovs",
                        "chassisId": f"{dpid:x}",
                        "lastUpdate": str(int(emu.started * 1000)),
                        "annotations": {"protocol": "OF_13"},
                    }
                    for dpid in emu.switch_ids
                ]
            }
        )

    async def device_ports(request: Request) -> Response:
        wanted = request.path_params["device"]
        dpid = next((d for d in emu.switch_ids if device_id(d) == wanted), None)
        if dpid is None:
            return json_error("Device is not found", 404)
        await emu._per_switch_request()
        ports: list[dict[str, Any]] = [
            {
                "element": wanted,
                "port": "local",
                "isEnabled": True,
                "type": "copper",
                "portSpeed": 0,
                "annotations": {"portName": f"s{dpid}"},
            }
        ]
        ports += [
            {
                "element": wanted,
                "port": str(port),
                "isEnabled": info["up"],
                "type": "copper",
                "portSpeed": 10000,
                "annotations": {"portName": info["name"], "portMac": info["hw_addr"]},
            }
            for (d, port), info in sorted(emu.ports.items())
            if d == dpid
        ]
        return JSONResponse({"id": wanted, "type": "SWITCH", "available": True, "ports": ports})

    async def links(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "links": [
                    {
                        "src": {"port": str(sp), "device": device_id(s)},
                        "dst": {"port": str(dp), "device": device_id(d)},
                        "type": "DIRECT",
                        "state": "ACTIVE",
                    }
                    for s, sp, d, dp in sorted(emu.links)
                ]
            }
        )

    async def hosts(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "hosts": [
                    {
                        "id": f"{mac.upper()}/None",
                        "mac": mac.upper(),
                        "vlan": "None",
                        "innerVlan": "None",
                        "outerTpid": "unknown",
                        "configured": False,
                        "ipAddresses": h["ipv4"],
                        "locations": [{"elementId": device_id(h["dpid"]), "port": str(h["port"])}],
                    }
                    for mac, h in sorted(emu.hosts.items())
                ]
            }
        )

    async def flows(request: Request) -> JSONResponse:
        now = time.time()
        return JSONResponse(
            {
                "flows": [
                    {
                        "id": str(dpid << 32 | i),
                        "tableId": f["table_id"],
                        "appId": "org.onosproject.core",
                        "groupId": 0,
                        "priority": f["priority"],
                        "timeout": 0,
                        "isPermanent": True,
                        "deviceId": device_id(dpid),
                        "state": "ADDED",
                        "life": int(now - f["created_time"]),
                        "packets": f["packet_count"],
                        "bytes": f["byte_count"],
                        "liveType": "UNKNOWN",
                        "lastSeen": int(now * 1000),
                        "treatment": {
                            "instructions": [{"type": "OUTPUT", "port": a.split(":")[1]} for a in f["actions"]]
                        },
                        "selector": {"criteria": [{"type": k.upper(), "mac": v} for k, v in f["match"].items()]},
                    }
                    for dpid in emu.switch_ids
                    for i, f in enumerate(emu.flows[dpid])
                ]
            }
        )

    async def port_statistics(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "statistics": [
                    {
                        "device": device_id(dpid),
                        "ports": [
                            {
                                "port": item["port_no"],
                                **{ONOS_COUNTERS[k]: item[k] for k in ONOS_COUNTERS},
                                "durationSec": item["duration_sec"],
                            }
                            for item in emu.port_stats(dpid)
                        ],
                    }
                    for dpid in emu.switch_ids
                ]
            }
        )

    return [
        Route("/onos/v1/devices", guarded(devices)),
        Route("/onos/v1/devices/{device}/ports", guarded(device_ports)),
        Route("/onos/v1/links", guarded(links)),
        Route("/onos/v1/hosts", guarded(hosts)),
        Route("/onos/v1/flows", guarded(flows)),
        Route("/onos/v1/statistics/ports", guarded(port_statistics)),
    ]
