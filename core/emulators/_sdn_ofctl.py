"""Stock Ryu: ``ryu.app.ofctl_rest`` (``StatsController``) and ``ryu.app.rest_topology`` over ``simple_switch_13``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._sdn_openflow import ofctl_entry
from ._sdn_rest_topology import rest_topology_routes

if TYPE_CHECKING:
    from .sdn_controller import SdnControllerEmulator


def ofctl_dpid(given: str) -> int:
    """``stats_method``'s ``int(str(dpid), 0)``: decimal, or hex with ``0x``; leading zeros are a ValueError."""
    return int(given, 0)


def ofctl_routes(emu: SdnControllerEmulator) -> list[BaseRoute]:
    """The routes of stock Ryu with ``ofctl_rest`` and ``rest_topology``."""

    async def datapath(request: Request) -> int | Response:
        """``stats_method``: 400 (empty body) for a DPID ``int(x, 0)`` cannot read, 404 (empty) for an unknown one."""
        try:
            dpid = ofctl_dpid(request.path_params["dpid"])
        except ValueError:
            return Response(status_code=400, media_type="text/html")
        if dpid not in emu.dpids:
            return Response(status_code=404, media_type="text/html")
        await emu.per_switch_request()
        return dpid

    async def dpids(request: Request) -> Response:
        """``StatsController.get_dpids``: the DPIDs as ints."""
        return JSONResponse(list(emu.dpids))

    async def flows(request: Request) -> Response:
        """``get_flow_stats`` -> ``ofctl_v1_3.get_flow_stats``: ``{"<decimal dpid>": [flow stats]}``."""
        dpid = await datapath(request)
        if isinstance(dpid, Response):
            return dpid
        return JSONResponse({str(dpid): [ofctl_entry(flow) for flow in emu.flows[dpid]]})

    async def ports(request: Request) -> Response:
        """``get_port_stats`` -> ``ofctl_v1_3.get_port_stats``: ``{"<decimal dpid>": [port stats]}``."""
        dpid = await datapath(request)
        if isinstance(dpid, Response):
            return dpid
        wanted = request.path_params.get("port")
        items = [p for p in emu.port_stats(dpid) if wanted is None or str(p["port_no"]) == wanted]
        return JSONResponse({str(dpid): items})

    async def port_desc(request: Request) -> Response:
        """``get_port_desc`` -> ``ofctl_v1_3.get_port_desc``: port descriptions, with OpenFlow's state bits."""
        dpid = await datapath(request)
        if isinstance(dpid, Response):
            return dpid
        body = [
            {
                "port_no": port,
                "hw_addr": emu.ports[(dpid, port)]["hw_addr"],
                "name": emu.ports[(dpid, port)]["name"],
                "config": 0,
                "state": 0 if emu.ports[(dpid, port)]["up"] else 1,  # OFPPS_LINK_DOWN
                "curr": 2112,
                "advertised": 0,
                "supported": 0,
                "peer": 0,
                "curr_speed": 10_000_000,
                "max_speed": 0,
            }
            for port in emu.switch_ports(dpid)
        ]
        return JSONResponse({str(dpid): body})

    return [
        *rest_topology_routes(emu),
        Route("/stats/switches", dpids),
        Route("/stats/flow/{dpid}", flows, methods=["GET", "POST"]),
        Route("/stats/port/{dpid}", ports),
        Route("/stats/port/{dpid}/{port}", ports),
        Route("/stats/portdesc/{dpid}", port_desc),
    ]
