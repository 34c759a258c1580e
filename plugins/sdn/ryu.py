"""Ryu's REST API, in its two spellings: FLOPY-NET's controller and stock ``ofctl_rest``.

Both serve ``rest_topology``'s ``/v1.0/topology/*``. They differ in the statistics routes:

- FLOPY-NET's ``policy_switch`` reads a DPID whose characters are all hex digits **as hex** on ``/stats/port/<dpid>``
  (a decimal DPID names another switch, or none), keeps every flow in one ``/stats/flows`` answer and has no
  ``/stats/flow/<dpid>``: it gets the 16-hex DPID and one request for all flows;
- stock ``ofctl_rest`` reads ``int(dpid, 0)`` (so decimal) on ``/stats/port/<dpid>`` and ``/stats/flow/<dpid>``
  and has no ``/stats/flows``: it gets decimal DPIDs and one flow request per switch.

Which one answers is told once, by whether ``/stats/flows`` exists, and remembered. It is told again after the
controller went away (it may come back as another one), when FLOPY-NET's controller restarted, and when a route the
remembered API has answers 404. A restart shows in FLOPY-NET's uptime: the time it implies the controller started
(the time of the answer minus the uptime) moves forward. Comparing the uptimes alone misses a restart whenever the
next poll comes later after it than the previous poll came after the previous start (a busy machine, a long
interval): the uptime then reads higher than before.

The flow counters become traffic per interval and are set beside the port counters of the same interval (the round
table compares a client's bytes with its switch port's). FLOPY-NET's controller answers both from its stats loop's
last refresh, so its ``/stats/flows`` is read before the port counters (with the switches; that request also tells
the API) and again after them, until both reads agree (:mod:`.snapshot`): flows and ports are then one snapshot,
timed by when the port counters answered. Stock Ryu reads the switches' live counters: a switch's flows and ports are
asked together, each timed by its own answer.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable
from typing import Any, Literal

import httpx
import trio
from flcollector import NOT_FOUND, EndpointError, SourceUnavailable, gather_endpoints, get_json, now_ns

from . import snapshot, stats, topology
from .poll import Poll, parse, take

Api = Literal["flopynet", "ofctl_rest"]

#: FLOPY-NET rounds ``uptime_seconds`` to a tenth of a second; a start time moving by more than this (plus the time
#: the request took) is a restart.
UPTIME_RESOLUTION_S = 0.1


class RyuSource:
    """Polls a Ryu controller; ``api`` is the detected spelling (None until known)."""

    def __init__(self, client: httpx.AsyncClient, concurrency: int) -> None:
        self.client = client
        self.concurrency = concurrency
        self.api: Api | None = None
        self.detections = 0  # how often the API was (re)detected, for /health
        self._started: tuple[float, float] | None = None  # when FLOPY-NET's controller started: earliest, latest
        self._asked: tuple[float, float] = (0.0, 0.0)  # wall-clock times the last performance request went, came

    def dpid_in_path(self, dpid: str) -> str:
        """How this controller wants a (16-hex) DPID in a stats path."""
        return dpid if self.api == "flopynet" else str(int(dpid, 16))

    async def poll(self) -> Poll:
        """Poll the switches (and, unless stock Ryu is known, ``/stats/flows``), then the rest concurrently, then
        FLOPY-NET's flows again (see the module docstring)."""
        try:
            return await self._poll()
        except SourceUnavailable:
            self.api = None  # whatever answers next may be another controller
            raise

    async def _poll(self) -> Poll:
        result = Poll()
        first: dict[Hashable, Callable[[], Any]] = {"switches": self._switches}
        if self.api != "ofctl_rest":
            first["all_flows"] = self._all_flows  # its 404 or its answer tells the API; FLOPY-NET's opens a snapshot
        got = await gather_endpoints(first)
        result.switches = take(result, got, "switches")
        opened = take(result, got, "all_flows") if "all_flows" in got else None
        dpids = [s["dpid"] for s in result.switches or [] if len(s["dpid"]) == 16]
        api = self.api  # as detected by the first requests (a later 404 changes it for the next poll only)
        counted = dpids if api is not None else []  # an unknown API: a DPID could name the wrong switch
        limiter = trio.CapacityLimiter(self.concurrency)
        jobs: dict[Hashable, Callable[[], Any]] = {
            "links": lambda: self._get("/v1.0/topology/links", topology.ryu_links),
            "hosts": self._hosts,
            **self._port_jobs(counted),
        }
        if api == "flopynet":
            jobs["performance"] = self._performance
        for dpid in counted if api == "ofctl_rest" else []:
            jobs["flows", dpid] = functools.partial(self._flows, dpid)
        results = await gather_endpoints(jobs, limiter)
        result.links, result.hosts = take(result, results, "links"), take(result, results, "hosts")
        result.performance = take(result, results, "performance")
        self._watch_uptime(result.performance)
        self._take_ports(result, results, counted)
        if api == "ofctl_rest":
            self._per_switch_flows(result, results, dpids)
        elif api == "flopynet" and opened is not None:
            await self._settle_flows(result, opened[1], dpids, limiter)
        return result

    def _port_jobs(self, dpids: list[str]) -> dict[Hashable, Callable[[], Any]]:
        return {("ports", dpid): functools.partial(self._ports, dpid) for dpid in dpids}

    @staticmethod
    def _take_ports(poll: Poll, results: dict[Hashable, Any], dpids: list[str]) -> None:
        for dpid in dpids:
            if (ports := take(poll, results, ("ports", dpid))) is not None:
                poll.port_counters[dpid] = ports

    async def _settle_flows(
        self, poll: Poll, opened: dict[str, list[dict[str, Any]]], dpids: list[str], limiter: trio.CapacityLimiter
    ) -> None:
        """FLOPY-NET's flows read again after the port counters, as one snapshot with them (see the module)."""

        async def ports_again() -> None:
            results = await gather_endpoints(self._port_jobs(dpids), limiter)
            poll.port_counters = {}
            self._take_ports(poll, results, dpids)

        timed = await snapshot.settle(poll, opened, functools.partial(self._all_flows, detect=False), ports_again)
        if timed is not None and poll.switches is not None:
            poll.flows_at_ns, all_flows, poll.flows_read_ns = timed
            known = set(dpids)  # FLOPY-NET never forgets the flows of a switch that left
            poll.flows = {dpid: [f for f in all_flows.get(dpid, []) if f["switch_dpid"] in known] for dpid in dpids}

    async def _get(self, path: str, parser: Callable[[Any], Any], **kwargs: Any) -> Any:
        return parse(path, await get_json(self.client, path, **kwargs), parser)

    async def _switches(self) -> list[dict[str, Any]]:
        return await self._get("/v1.0/topology/switches", topology.ryu_switches, main=True)

    async def _all_flows(self, detect: bool = True) -> tuple[int, dict[str, list[dict[str, Any]]]] | None:
        """FLOPY-NET's ``/stats/flows`` and when it answered; its absence (404) is stock Ryu. Sets :attr:`api` (when
        not ``detect``: only forgets it on a 404, to be told again next poll)."""
        body = await get_json(self.client, "/stats/flows", allow_404=True)
        read_at = now_ns()
        detected: Api = "ofctl_rest" if body is NOT_FOUND else "flopynet"
        if not detect:
            self.api = None if body is NOT_FOUND else self.api
        elif detected != self.api:
            self.api, self.detections = detected, self.detections + 1
        return None if body is NOT_FOUND else (read_at, parse("/stats/flows", body, stats.flopynet_flows))

    async def _hosts(self) -> list[dict[str, Any]]:
        for path in ("/v1.0/topology/hosts", "/stats/hosts"):
            body = await get_json(self.client, path, allow_404=True)
            if body is not NOT_FOUND:
                return parse(path, body, topology.ryu_hosts)
        return []  # the controller does not track hosts

    async def _performance(self) -> dict[str, Any] | None:
        sent = time.time()
        body = await get_json(self.client, "/api/performance/metrics", allow_404=True)
        self._asked = (sent, time.time())
        if body is NOT_FOUND:
            return None
        if not isinstance(body, dict):
            raise EndpointError("/api/performance/metrics", "expected an object")
        return body

    def _watch_uptime(self, performance: dict[str, Any] | None) -> None:
        """A FLOPY-NET controller that started again since the last poll: tell the API again next poll."""
        totals = (performance or {}).get("totals")
        uptime = totals.get("uptime_seconds") if isinstance(totals, dict) else None
        if isinstance(uptime, int | float) and not isinstance(uptime, bool):
            sent, received = self._asked  # the controller read its uptime between these two moments
            started = (sent - uptime - UPTIME_RESOLUTION_S, received - uptime + UPTIME_RESOLUTION_S)
            if self._started is not None and started[0] > self._started[1]:
                self.api = None
            self._started = started

    async def _ports(self, dpid: str) -> tuple[int, list[dict[str, Any]]] | None:
        key = self.dpid_in_path(dpid)  # both controllers key the answer by the DPID as requested
        path = f"/stats/port/{key}"
        body = await get_json(self.client, path, allow_404=True)
        if body is NOT_FOUND:  # the switch left between the switch list and this request
            return None
        return now_ns(), parse(path, body, lambda b: stats.ryu_port_counters(b, key))

    async def _flows(self, dpid: str) -> tuple[int, list[dict[str, Any]]] | None:
        key = self.dpid_in_path(dpid)
        path = f"/stats/flow/{key}"
        body = await get_json(self.client, path, allow_404=True)
        if body is NOT_FOUND:
            return None
        return now_ns(), parse(path, body, lambda b: stats.ryu_flows(b, key, dpid))

    def _per_switch_flows(self, poll: Poll, results: dict[Hashable, Any], dpids: list[str]) -> None:
        """Stock Ryu's flows by switch into ``poll`` (timed by the last answer); unknown as a whole if one switch's
        are. A 404 from ``ofctl_rest``'s own route means another controller answers now: tell the API again next
        poll."""
        answers = {dpid: take(poll, results, ("flows", dpid)) for dpid in dpids}
        if any(results.get(("flows", dpid)) is None for dpid in dpids):
            self.api = None
        if poll.switches is None or any(answer is None for answer in answers.values()):
            return
        poll.flows = {dpid: flows for dpid, (_, flows) in answers.items()}
        poll.flows_at_ns = poll.flows_read_ns = max((read_at for read_at, _ in answers.values()), default=0)
