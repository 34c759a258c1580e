"""An emulated SDN controller: a linear chain of switches with hosts, rising port counters and flows.

``SdnControllerEmulator(flavour="ryu")`` serves the FLOPY-NET controller's REST shapes (reference §2.5):
``/v1.0/topology/{switches,links,hosts}`` (link DPIDs are ints, as there), ``/stats/port/<dpid>``,
``/stats/flowentry/<dpid>``, ``/stats/flows``, ``/api/performance/metrics``, ``/health``; with ``ofctl_rest=True``
also Ryu's standard ``/stats/flow/<dpid>``. ``flavour="onos"`` serves ONOS's ``/onos/v1/{devices,devices/<id>/ports,
links,hosts,flows,statistics/ports}`` behind HTTP Basic auth (``onos``/``rocks``).

The scenario: :meth:`SdnControllerEmulator.advance_counters` adds traffic; :meth:`SdnControllerEmulator.step` adds
traffic and, on scripted ticks, takes the last link down (tick 2), brings it back (tick 4) and lets a host join
(tick 3). :meth:`SdnControllerEmulator.reset_counters` is the counter-reset fault (a switch restarted).
"""

from __future__ import annotations

import base64
import time
from typing import Any, Literal

import trio
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ._sdn_onos import onos_routes
from ._sdn_ryu import ryu_routes
from .base import Emulator
from .policy_engine import PathFaults

COUNTERS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped", "rx_errors", "tx_errors")


class SdnControllerEmulator(Emulator):
    """A Ryu-like or ONOS-like controller over a scripted linear topology."""

    label = "sdn-controller"

    def __init__(
        self,
        flavour: Literal["ryu", "onos"] = "ryu",
        *,
        switches: int = 3,
        hosts_per_switch: int = 2,
        ofctl_rest: bool = False,
        username: str = "onos",
        password: str = "rocks",
    ) -> None:
        super().__init__()
        self.flavour = flavour
        self.ofctl_rest = ofctl_rest
        self.credentials = (username, password)
        self.started = time.time()
        self.ticks = 0
        self.hosts_per_switch = hosts_per_switch
        self.stats_delay = 0.0  # seconds each per-switch request takes (to observe request concurrency)
        self.in_flight = 0
        self.max_in_flight = 0
        self.broken_paths: set[str] = set()
        self.ports: dict[tuple[int, int], dict[str, Any]] = {}  # (dpid, port_no) -> {name, hw_addr, up}
        self.counters: dict[tuple[int, int], dict[str, int]] = {}
        self.port_started: dict[tuple[int, int], float] = {}
        self.links: set[tuple[int, int, int, int]] = set()  # directed (src, src_port, dst, dst_port)
        self.hosts: dict[str, dict[str, Any]] = {}
        self.flows: dict[int, list[dict[str, Any]]] = {}
        for dpid in range(1, switches + 1):
            self.add_switch(dpid)
            for _ in range(hosts_per_switch):
                self.add_host(dpid)
        for dpid in range(1, switches):
            self.link_up(dpid, dpid + 1)

    # -- topology and traffic ------------------------------------------------------------------------------------

    @property
    def switch_ids(self) -> list[int]:
        """The DPIDs of the switches, ascending."""
        return sorted({dpid for dpid, _ in self.ports})

    def add_switch(self, dpid: int) -> None:
        """Add a switch with host ports ``1..hosts_per_switch`` and two uplinks, and its table-miss flow."""
        for port in range(1, self.hosts_per_switch + 3):
            key = (dpid, port)
            self.ports[key] = {
                "name": f"s{dpid}-eth{port}",
                "hw_addr": f"02:00:00:00:{dpid:02x}:{port:02x}",
                "up": port <= self.hosts_per_switch,
            }
            self.counters[key] = dict.fromkeys(COUNTERS, 0)
            self.port_started[key] = time.time()
        self.flows[dpid] = []
        self.add_flow(dpid, priority=0, match={}, actions=["OUTPUT:CONTROLLER"])

    def add_host(self, dpid: int) -> str:
        """Attach a new host to the first free host port of switch ``dpid`` (or the last one); return its MAC."""
        index = len(self.hosts) + 1
        used = {h["port"] for h in self.hosts.values() if h["dpid"] == dpid}
        port = next((p for p in range(1, self.hosts_per_switch + 1) if p not in used), self.hosts_per_switch)
        mac = f"00:00:00:00:00:{index:02x}"
        self.hosts[mac] = {"ipv4": [f"10.0.0.{index}"], "dpid": dpid, "port": port}
        self.add_flow(dpid, priority=1, match={"eth_dst": mac}, actions=[f"OUTPUT:{port}"])
        return mac

    def add_flow(self, dpid: int, priority: int, match: dict[str, Any], actions: list[str]) -> None:
        """Install a flow on switch ``dpid``."""
        self.flows[dpid].append(
            {
                "table_id": 0,
                "priority": priority,
                "cookie": len(self.flows[dpid]),
                "idle_timeout": 0,
                "hard_timeout": 0,
                "match": match,
                "actions": actions,
                "packet_count": 0,
                "byte_count": 0,
                "created_time": time.time(),
            }
        )

    def _uplinks(self, a: int, b: int) -> tuple[int, int]:
        return self.hosts_per_switch + 2, self.hosts_per_switch + 1  # a's "next" port, b's "previous" port

    def link_up(self, a: int, b: int) -> None:
        """Connect switch ``a`` to switch ``b = a + 1`` (both directions, as LLDP discovery reports them)."""
        pa, pb = self._uplinks(a, b)
        self.links |= {(a, pa, b, pb), (b, pb, a, pa)}
        self.ports[(a, pa)]["up"] = self.ports[(b, pb)]["up"] = True

    def link_down(self, a: int, b: int) -> None:
        """Disconnect switch ``a`` from ``b = a + 1``; their ports go down."""
        pa, pb = self._uplinks(a, b)
        self.links -= {(a, pa, b, pb), (b, pb, a, pa)}
        self.ports[(a, pa)]["up"] = self.ports[(b, pb)]["up"] = False

    def advance_counters(self) -> None:
        """Traffic: every up port moves ``port_no * 125 kB`` each way (1 Mbit per port number); flows count too."""
        for key, counters in self.counters.items():
            if not self.ports[key]["up"]:
                continue
            dpid, port = key
            volume = 125_000 * port
            for direction in ("rx", "tx"):
                counters[f"{direction}_bytes"] += volume + dpid
                counters[f"{direction}_packets"] += volume // 1000
            if self.ticks % 5 == 4:
                counters["rx_dropped"] += 1
                counters["tx_errors"] += 1
        for flows in self.flows.values():
            for flow in flows:
                flow["packet_count"] += 10 * (flow["priority"] + 1)
                flow["byte_count"] += 10_000 * (flow["priority"] + 1)

    def reset_counters(self) -> None:
        """Fault: every port counter (and port uptime) restarts from zero, as when switches restart."""
        for key in self.counters:
            self.counters[key] = dict.fromkeys(COUNTERS, 0)
            self.port_started[key] = time.time()

    async def step(self) -> None:
        """One tick: traffic, plus the scripted topology changes (link down, host joins, link up)."""
        self.ticks += 1
        self.advance_counters()
        last = self.switch_ids[-1]
        if self.ticks % 4 == 2 and last > 1:
            self.link_down(last - 1, last)
        elif self.ticks % 4 == 0 and last > 1:
            self.link_up(last - 1, last)
        elif self.ticks % 4 == 3:
            self.add_host(self.switch_ids[0])

    def break_path(self, path: str, broken: bool = True) -> None:
        """Fault on one endpoint only: ``path`` answers a 200 whose body is not JSON (until un-broken)."""
        (self.broken_paths.add if broken else self.broken_paths.discard)(path)

    # -- shared views -------------------------------------------------------------------------------------------

    def port_stats(self, dpid: int) -> list[dict[str, Any]]:
        """Ryu ``/stats/port`` items of one switch (counters, uptime)."""
        items = []
        for (d, port), counters in sorted(self.counters.items()):
            if d == dpid:
                uptime = time.time() - self.port_started[(d, port)]
                items.append(
                    {
                        "port_no": port,
                        **counters,
                        "rx_frame_err": 0,
                        "rx_over_err": 0,
                        "rx_crc_err": 0,
                        "collisions": 0,
                        "duration_sec": int(uptime),
                        "duration_nsec": int(uptime % 1 * 1e9),
                    }
                )
        return items

    async def _per_switch_request(self) -> None:
        """Count concurrent per-switch requests and take ``stats_delay`` seconds, like a slow switch would."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await trio.sleep(self.stats_delay)
        finally:
            self.in_flight -= 1

    def app(self) -> ASGIApp:
        """The routes with the base fault modes, plus the per-path faults."""
        return PathFaults(super().app(), self.broken_paths)

    def routes(self) -> list[BaseRoute]:
        """Ryu's or ONOS's routes."""
        return onos_routes(self) if self.flavour == "onos" else ryu_routes(self)

    def authorised(self, request: Request) -> bool:
        """Whether the request carries this controller's HTTP Basic credentials (ONOS)."""
        header = request.headers.get("authorization", "")
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"
