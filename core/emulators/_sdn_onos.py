"""The ONOS flavour of the SDN controller emulator: ``/onos/v1/...`` shapes behind HTTP Basic auth.

Audited against ONOS's REST resources and JSON codecs as far as the ``sdn`` monitor reads them
(``DevicesWebResource``, ``LinksWebResource``, ``HostsWebResource``, ``FlowsWebResource``,
``StatisticsWebResource``; ``FlowEntryCodec``, ``EncodeCriterionCodecHelper``, ``PortStatisticsCodec``): errors are
``{"code", "message"}`` (ONOS's exception mappers), ports in statistics are numbers, a flow's selector criteria use
``mac`` / ``ip`` ("a.b.c.d/32") / ``ethType`` ("0x800") / ``protocol`` / ``port`` / ``tcpPort``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._sdn_openflow import ordered

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


def _error(status: int, message: str) -> JSONResponse:
    """ONOS's exception mappers (``AbstractMapper``): ``{"code", "message"}``."""
    return JSONResponse({"code": status, "message": message}, status_code=status)


def criterion(name: str, value: Any) -> dict[str, Any]:
    """``EncodeCriterionCodecHelper``'s JSON of one match field."""
    if name == "in_port":
        return {"type": "IN_PORT", "port": value}
    if name in ("eth_src", "eth_dst"):
        return {"type": name.upper(), "mac": str(value).upper()}
    if name == "eth_type":
        return {"type": "ETH_TYPE", "ethType": f"0x{value:x}"}
    if name == "ip_proto":
        return {"type": "IP_PROTO", "protocol": value}
    if name in ("ipv4_src", "ipv4_dst"):
        return {"type": name.upper(), "ip": f"{value}/32"}
    kind = "tcpPort" if name.startswith("tcp") else "udpPort"
    return {"type": name.upper(), kind: value}


def onos_routes(emu: SdnControllerEmulator) -> list[BaseRoute]:
    """Routes of the ONOS REST API subset the ``sdn`` monitor reads."""

    def guarded(handler: Handler) -> Handler:
        async def check(request: Request) -> Response:
            if not emu.authorised(request):
                response = _error(401, "Unauthorized")
                response.headers["WWW-Authenticate"] = 'Basic realm="karaf"'
                return response
            return await handler(request)

        return check

    async def devices(request: Request) -> JSONResponse:
        """``DevicesWebResource.getDevices``."""
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
        """``DevicesWebResource.getDevicePorts``: the device and its ports (``local`` first)."""
        wanted = request.path_params["device"]
        dpid = next((d for d in emu.switch_ids if device_id(d) == wanted), None)
        if dpid is None:
            return _error(404, "Device is not found")
        await emu.per_switch_request()
        ports: list[dict[str, Any]] = [
            {
                "element": wanted,
                "port": "local",
                "isEnabled": True,
                "type": "copper",
                "portSpeed": 0,
                "annotations": {"portName": f"s{emu.dpids.index(dpid) + 1}"},
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
            for port in emu.switch_ports(dpid)
            for info in [emu.ports[(dpid, port)]]
        ]
        return JSONResponse({"id": wanted, "type": "SWITCH", "available": True, "ports": ports})

    async def links(request: Request) -> JSONResponse:
        """``LinksWebResource.getLinks``."""
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
        """``HostsWebResource.getHosts``."""
        return JSONResponse(
            {
                "hosts": [
                    {
                        "id": f"{h.mac.upper()}/None",
                        "mac": h.mac.upper(),
                        "vlan": "None",
                        "innerVlan": "None",
                        "outerTpid": "unknown",
                        "configured": False,
                        "ipAddresses": [h.ip],
                        "locations": [{"elementId": device_id(h.dpid), "port": str(h.port)}],
                    }
                    for h in emu.host_list()
                ]
            }
        )

    async def flows(request: Request) -> JSONResponse:
        """``FlowsWebResource.getFlows``: ``FlowEntryCodec`` items of every device."""
        now = time.time()
        return JSONResponse(
            {
                "flows": [
                    {
                        "id": str(dpid << 16 | i),
                        "tableId": 0,
                        "appId": "org.onosproject.fwd" if f.idle_timeout else "org.onosproject.core",
                        "groupId": 0,
                        "priority": f.priority,
                        "timeout": f.idle_timeout,
                        "isPermanent": not f.idle_timeout,
                        "deviceId": device_id(dpid),
                        "state": "ADDED",
                        "life": int(now - f.created),
                        "packets": f.packet_count,
                        "bytes": f.byte_count,
                        "liveType": "UNKNOWN",
                        "lastSeen": int(now * 1000),
                        "treatment": {"instructions": [{"type": "OUTPUT", "port": str(f.out_port)}], "deferred": []},
                        "selector": {"criteria": [criterion(k, v) for k, v in ordered(f.match)]},
                    }
                    for dpid in emu.switch_ids
                    for i, f in enumerate(emu.flows[dpid])
                ]
            }
        )

    async def port_statistics(request: Request) -> JSONResponse:
        """``StatisticsWebResource.getPortStatistics``: ``PortStatisticsCodec`` items per device."""
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
