"""An emulated SDN controller: a linear chain of switches with hosts whose conversations move every counter.

Three flavours, each reproducing a real controller's REST API route by route (the route modules say which upstream
function each route follows):

- ``"ryu"``: FLOPY-NET's controller (``ryu-manager ryu.topology.switches ryu.app.rest_topology
  src.networking.sdn.apps.policy_switch``): ``rest_topology``'s ``/v1.0/topology/*`` and
  ``PolicySwitchRESTController``'s ``/stats/port/<dpid>`` and ``/stats/flowentry/<dpid>`` (a DPID whose
  characters are all hex digits is read as hex), ``/stats/flows``, ``/stats/{switches,links,hosts}``,
  ``/api/performance/metrics``, ``/health``, ``/status``;
- ``"ofctl"``: stock Ryu (``ryu.app.simple_switch_13 ryu.app.ofctl_rest ryu.app.rest_topology``): DPIDs in decimal
  on ``/stats/port/<dpid>`` and ``/stats/flow/<dpid>``, no ``/stats/flows``;
- ``"onos"``: ONOS's ``/onos/v1/...`` behind HTTP Basic auth (``onos``/``rocks``).

The data plane (:mod:`._sdn_traffic`): FLOPY-NET's addressing (FL server 192.168.100.10, policy engine .20,
collector .40, clients .101 on, a gateway .1), clients exchanging model updates with the FL server, policy checks,
the collector's polls, and optionally background traffic; flow counters add up to the port counters they cross.
DPIDs default to ones whose hex and decimal spellings differ (``00002696755c7301`` ...).

The scenario: :meth:`advance_counters` moves one tick of traffic; :meth:`step` also takes the last link down (tick 2),
lets a client join (tick 3) and brings the link back (tick 4). Faults: the base ones, :meth:`break_path`,
:meth:`reset_counters` (switches restarted) and :meth:`restart_controller` (possibly as another flavour).
"""

from __future__ import annotations

import base64
import time
from typing import Any, Literal

import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ._sdn_data_plane import DataPlane
from ._sdn_ofctl import ofctl_routes
from ._sdn_onos import onos_routes
from ._sdn_rest_topology import ryu_not_found
from ._sdn_ryu import ryu_routes
from .base import Emulator

Flavour = Literal["ryu", "ofctl", "onos"]
FLAVOURS: tuple[Flavour, ...] = ("ryu", "ofctl", "onos")
FIRST_DPID = 0x00002696755C7301  # hex "00002696755c7301", decimal "42427655942913": the spellings differ


class SdnControllerEmulator(DataPlane, Emulator):
    """A Ryu-like (FLOPY-NET's or stock) or ONOS-like controller over a scripted linear topology."""

    label = "sdn-controller"

    def __init__(
        self,
        flavour: Flavour = "ryu",
        *,
        switches: int = 3,
        hosts_per_switch: int = 2,
        dpids: list[int] | None = None,
        background: bool = True,
        topology_app: Literal["rest_topology", "policy_switch"] = "rest_topology",
        username: str = "onos",
        password: str = "rocks",
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}, not {flavour!r}")
        Emulator.__init__(self)
        self.flavour: Flavour = flavour
        self.topology_app = topology_app  # which app serves FLOPY-NET's /v1.0/topology/* (see _sdn_rest_topology)
        self.credentials = (username, password)
        self.started = time.time()
        self.ticks = 0
        self.stats_delay = 0.0  # seconds each per-switch request takes (to observe request concurrency)
        self.in_flight = 0
        self.max_in_flight = 0
        self._apps: dict[str, ASGIApp] = {}
        chain = list(dpids) if dpids else [FIRST_DPID + i for i in range(switches)]
        DataPlane.__init__(self, chain, hosts_per_switch, background)

    # -- the scenario --------------------------------------------------------------------------------------------

    async def step(self) -> None:
        """One tick: the scripted topology changes (link down, a client joins, link up), then the tick's traffic."""
        self.ticks += 1
        if len(self.dpids) > 1:
            last, before = self.dpids[-1], self.dpids[-2]
            if self.ticks % 4 == 2:
                self.link_down(before, last)
            elif self.ticks % 4 == 0:
                self.link_up(before, last)
        if self.ticks % 4 == 3 and self.free_port() is not None:
            self.add_client()
        self.advance_counters()

    def restart_controller(self, flavour: Flavour | None = None) -> None:
        """Fault: the controller process restarts (the switches keep their flows and counters), maybe as another
        flavour. FLOPY-NET's flow keys change (a new hash salt) and the entries it finds in the switches' stats
        replies take the "first met in a stats reply" shape; its own entries are installed again."""
        self.started = time.time()
        self.key_salt += 1
        self.cumulative = self.fresh_cumulative()
        if flavour is not None and flavour != self.flavour:
            self.flavour = flavour
            self.reinstall_flows()  # another app owns the switches now
            return
        for flows in self.flows.values():
            for flow in flows:
                flow.by_controller = flow.priority in self.default_priorities()
                flow.stats_seen = False


    # -- serving -------------------------------------------------------------------------------------------------

    async def per_switch_request(self) -> None:
        """Count concurrent per-switch requests and take ``stats_delay`` seconds, like a slow switch would."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await trio.sleep(self.stats_delay)
        finally:
            self.in_flight -= 1

    def routes(self) -> list[BaseRoute]:
        """One mount that hands each request to the current flavour's app (a restart may change the flavour)."""
        return [Mount("", app=self._current_flavour)]

    async def _current_flavour(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.flavour not in self._apps:
            self._apps[self.flavour] = self._build_app(self.flavour)
        await self._apps[self.flavour](scope, receive, send)

    def _build_app(self, flavour: Flavour) -> ASGIApp:
        if flavour == "onos":
            return Starlette(routes=onos_routes(self))
        routes = ryu_routes(self) if flavour == "ryu" else ofctl_routes(self)

        async def unknown(request: Request) -> Any:
            return ryu_not_found(request)

        methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        return Starlette(routes=[*routes, Route("/{path:path}", unknown, methods=methods)])

    def authorised(self, request: Request) -> bool:
        """Whether the request carries this controller's HTTP Basic credentials (ONOS)."""
        header = request.headers.get("authorization", "")
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"
