"""What both Ryu flavours share: Ryu's stock ``ryu.app.rest_topology`` routes, and Ryu's answer to unknown paths.

FLOPY-NET's controller loads ``ryu.app.rest_topology`` before its own ``policy_switch`` app
(``controller_server.py``, ``DEFAULT_RYU_APPS``); Ryu's WSGI mapper answers with the first route connected for a
path, so its ``/v1.0/topology/*`` are served by ``rest_topology`` (``TopologyController``), with ``ryu.topology``'s
``to_dict`` shapes: DPIDs as 16 hex digits everywhere, port numbers as 8 hex digits, no port state.
``topology_app="policy_switch"`` serves ``PolicySwitchRESTController``'s own versions instead (int DPIDs in links,
int port numbers), which FLOPY-NET also serves as ``/stats/{switches,links,hosts}``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from .sdn_controller import SdnControllerEmulator

_NOT_FOUND = "404 Not Found"
_EXPLANATION = "The resource could not be found.<br /><br />\n\n\n"


def ryu_not_found(request: Request) -> Response:
    """Ryu's answer to a path no app routes (``WSGIApplication.__call__``: ``webob.exc.HTTPNotFound()``).

    WebOb picks the body by the ``Accept`` header (``WSGIHTTPException.generate_response``): HTML for ``*/*`` or
    ``text/html`` (what requests and httpx send), JSON for ``application/json``, plain text otherwise.
    """
    offers = _accepted(request.headers.get("accept", ""))
    if offers and offers[0] == "text/html":
        body = f"<html>\n <head>\n  <title>{_NOT_FOUND}</title>\n </head>\n <body>\n  <h1>{_NOT_FOUND}</h1>\n"
        return Response(body + f"  {_EXPLANATION}\n </body>\n</html>", 404, media_type="text/html")
    if offers:
        json_body = {"message": _EXPLANATION, "code": _NOT_FOUND, "title": "Not Found"}
        return JSONResponse(json_body, 404)
    return Response(f"{_NOT_FOUND}\n\nThe resource could not be found.\n\n   ", 404, media_type="text/plain")


def _accepted(header: str) -> list[str]:
    """Which of ``text/html`` and ``application/json`` the header accepts, best first (ties: HTML first)."""
    quality: dict[str, float] = {}
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = next((float(p[2:]) for p in params if p.startswith("q=") and p[2:].replace(".", "", 1).isdigit()), 1.0)
        for offer in ("text/html", "application/json"):
            kind = offer.split("/")[0]
            if media in (offer, f"{kind}/*", "*/*") and q > 0:
                quality[offer] = max(quality.get(offer, 0.0), q)
    return sorted(quality, key=lambda offer: -quality[offer])


def _dpid_ok(request: Request) -> bool:
    """Whether the route's ``{dpid}`` (if any) matches ``dpid_lib.DPID_PATTERN``, 16 lower-case hex digits: the
    mapper matches no route otherwise."""
    given = request.path_params.get("dpid")
    return given is None or re.fullmatch(r"[0-9a-f]{16}", given) is not None


def port_dict(emu: SdnControllerEmulator, dpid: int, port: int) -> dict[str, Any]:
    """``ryu.topology.switches.Port.to_dict``."""
    info = emu.ports[(dpid, port)]
    return {"dpid": f"{dpid:016x}", "port_no": f"{port:08x}", "hw_addr": info["hw_addr"], "name": info["name"]}


def rest_topology_routes(emu: SdnControllerEmulator) -> list[BaseRoute]:
    """``TopologyController``'s routes (``list_switches``, ``list_links``, ``list_hosts`` and their ``/<dpid>``
    forms, whose DPID must be 16 hex digits, ``dpid_lib.DPID_PATTERN``)."""

    def wanted(request: Request) -> int | None:
        given = request.path_params.get("dpid")
        return None if given is None else int(given, 16)

    async def switches(request: Request) -> Response:
        """``TopologyController.list_switches`` / ``get_switch``: ``[Switch.to_dict()]``."""
        if not _dpid_ok(request):
            return ryu_not_found(request)
        dpid = wanted(request)
        body = [
            {"dpid": f"{d:016x}", "ports": [port_dict(emu, d, p) for p in emu.switch_ports(d)]}
            for d in emu.switch_ids
            if dpid in (None, d)
        ]
        return JSONResponse(body)

    async def links(request: Request) -> Response:
        """``TopologyController.list_links`` / ``get_links``: ``[Link.to_dict()]`` (source switch filter)."""
        if not _dpid_ok(request):
            return ryu_not_found(request)
        dpid = wanted(request)
        body = [
            {"src": port_dict(emu, s, sp), "dst": port_dict(emu, d, dp)}
            for s, sp, d, dp in sorted(emu.links)
            if dpid in (None, s)
        ]
        return JSONResponse(body)

    async def hosts(request: Request) -> Response:
        """``TopologyController.list_hosts`` / ``get_hosts``: ``[Host.to_dict()]``."""
        if not _dpid_ok(request):
            return ryu_not_found(request)
        dpid = wanted(request)
        body = [
            {"mac": h.mac, "ipv4": [h.ip], "ipv6": [], "port": port_dict(emu, h.dpid, h.port)}
            for h in emu.host_list()
            if dpid in (None, h.dpid)
        ]
        return JSONResponse(body)

    dpid = "{dpid}"
    return [
        Route("/v1.0/topology/switches", switches),
        Route(f"/v1.0/topology/switches/{dpid}", switches),
        Route("/v1.0/topology/links", links),
        Route(f"/v1.0/topology/links/{dpid}", links),
        Route("/v1.0/topology/hosts", hosts),
        Route(f"/v1.0/topology/hosts/{dpid}", hosts),
    ]


def policy_switch_topology(emu: SdnControllerEmulator) -> dict[str, Any]:
    """``PolicySwitchCore.get_switches`` / ``get_links`` / ``get_hosts``: switches with hex DPIDs and ports
    ``{port_no: int, hw_addr, name}`` (Ryu's topology ``Port`` has no ``state`` attribute, so none is copied),
    links with int DPIDs, hosts ``{mac, ipv4: [learned ip], port: {dpid: hex, port_no: int}}``."""
    return {
        "switches": [
            {
                "dpid": f"{d:016x}",
                "ports": [
                    {"port_no": p, "hw_addr": emu.ports[(d, p)]["hw_addr"], "name": emu.ports[(d, p)]["name"]}
                    for p in emu.switch_ports(d)
                ],
            }
            for d in emu.switch_ids
        ],
        "links": [
            {"src": {"dpid": s, "port_no": sp}, "dst": {"dpid": d, "port_no": dp}} for s, sp, d, dp in sorted(emu.links)
        ],
        "hosts": [
            {"mac": h.mac, "ipv4": [h.ip], "port": {"dpid": f"{h.dpid:016x}", "port_no": h.port}}
            for h in emu.host_list()
        ],
    }
