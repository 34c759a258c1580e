"""Ryu's REST API, in its two spellings: FLOPY-NET's controller and stock ``ofctl_rest``.

Both serve ``rest_topology``'s ``/v1.0/topology/*``. They differ in the statistics routes:

- FLOPY-NET's ``policy_switch`` reads a DPID whose characters are all hex digits **as hex** on ``/stats/port/<dpid>``
  (a decimal DPID names another switch, or none), keeps every flow in one ``/stats/flows`` answer and has no
  ``/stats/flow/<dpid>``: it gets the 16-hex DPID and one request for all flows;
- stock ``ofctl_rest`` reads ``int(dpid, 0)`` (so decimal) on ``/stats/port/<dpid>`` and ``/stats/flow/<dpid>``
  and has no ``/stats/flows``: it gets decimal DPIDs and one flow request per switch.

Which one answers is told once, by whether ``/stats/flows`` exists, and remembered. It is told again after the
controller went away (it may come back as another one), when FLOPY-NET's uptime goes back (a restart), and when a
route the remembered API has answers 404.

The flow counters become traffic per interval and are set beside the port counters of the same interval (the round
table compares a client's bytes with its switch port's), so both are read in the same round of concurrent requests
and each is timed by its own answer: a poll's second round of requests can take hundreds of milliseconds on a busy
machine, and traffic that moved in between would count in one interval for the ports and in the next for the flows.
While the API is unknown ``/stats/flows`` is also asked first, alone: that answer only tells the API, and FLOPY-NET's
flows are asked again with the port counters (counters read a round of requests apart would start the traffic and
the ports from different baselines: a stats update of the controller in between counts in one and not the other).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any, Literal

import httpx
import trio
from flcollector import NOT_FOUND, EndpointError, SourceUnavailable, gather_endpoints, get_json, now_ns

from . import stats, topology
from .poll import Poll, parse, take

Api = Literal["flopynet", "ofctl_rest"]


class RyuSource:
    """Polls a Ryu controller; ``api`` is the detected spelling (None until known)."""

    def __init__(self, client: httpx.AsyncClient, concurrency: int) -> None:
        self.client = client
        self.concurrency = concurrency
        self.api: Api | None = None
        self.detections = 0  # how often the API was (re)detected, for /health
        self._uptime: float | None = None  # FLOPY-NET's controller uptime at the last poll

    def dpid_in_path(self, dpid: str) -> str:
        """How this controller wants a (16-hex) DPID in a stats path."""
        return dpid if self.api == "flopynet" else str(int(dpid, 16))

    async def poll(self) -> Poll:
        """Poll the switches (and, unless stock Ryu is known, ``/stats/flows``), then the rest concurrently."""
        try:
            return await self._poll()
        except SourceUnavailable:
            self.api = None  # whatever answers next may be another controller
            raise

    async def _poll(self) -> Poll:
        result = Poll()
        first: dict[Hashable, Callable[[], Any]] = {"switches": self._switches}
        if self.api is None:
            first["all_flows"] = self._all_flows  # its 404 or its answer tells the API
        got = await gather_endpoints(first)
        result.switches = take(result, got, "switches")
        if "all_flows" in got and self.api != "flopynet":  # its error, unless the flows are asked again below
            take(result, got, "all_flows")
        dpids = [s["dpid"] for s in result.switches or [] if len(s["dpid"]) == 16]
        api = self.api  # as detected by the first requests (a later 404 changes it for the next poll only)
        jobs: dict[Hashable, Callable[[], Any]] = {
            "links": lambda: self._get("/v1.0/topology/links", topology.ryu_links),
            "hosts": self._hosts,
        }
        if api == "flopynet":
            jobs["performance"] = self._performance
            jobs["all_flows"] = self._all_flows  # with the port counters, even just after telling the API
        for dpid in dpids if api is not None else []:  # an unknown API: a DPID could name the wrong switch
            jobs["ports", dpid] = functools.partial(self._ports, dpid)
            if api == "ofctl_rest":
                jobs["flows", dpid] = functools.partial(self._flows, dpid)
        results = await gather_endpoints(jobs, trio.CapacityLimiter(self.concurrency))
        result.links, result.hosts = take(result, results, "links"), take(result, results, "hosts")
        result.performance = take(result, results, "performance")
        self._watch_uptime(result.performance)
        for dpid in dpids if api is not None else []:
            if (ports := take(result, results, ("ports", dpid))) is not None:
                result.port_counters[dpid] = ports
        if api == "ofctl_rest":
            self._per_switch_flows(result, results, dpids)
        elif (timed := take(result, results, "all_flows")) is not None:
            result.flows_at_ns, all_flows = timed  # when they were read, not when the poll ended
            known = set(dpids)  # FLOPY-NET never forgets the flows of a switch that left
            flows = {dpid: [f for f in all_flows.get(dpid, []) if f["switch_dpid"] in known] for dpid in dpids}
            result.flows = flows if result.switches is not None else None
        return result

    async def _get(self, path: str, parser: Callable[[Any], Any], **kwargs: Any) -> Any:
        return parse(path, await get_json(self.client, path, **kwargs), parser)

    async def _switches(self) -> list[dict[str, Any]]:
        return await self._get("/v1.0/topology/switches", topology.ryu_switches, main=True)

    async def _all_flows(self) -> tuple[int, dict[str, list[dict[str, Any]]]] | None:
        """FLOPY-NET's ``/stats/flows`` and when it answered; its absence (404) is stock Ryu. Sets :attr:`api`."""
        body = await get_json(self.client, "/stats/flows", allow_404=True)
        read_at = now_ns()
        detected: Api = "ofctl_rest" if body is NOT_FOUND else "flopynet"
        if detected != self.api:
            self.api, self.detections = detected, self.detections + 1
        return None if body is NOT_FOUND else (read_at, parse("/stats/flows", body, stats.flopynet_flows))

    async def _hosts(self) -> list[dict[str, Any]]:
        for path in ("/v1.0/topology/hosts", "/stats/hosts"):
            body = await get_json(self.client, path, allow_404=True)
            if body is not NOT_FOUND:
                return parse(path, body, topology.ryu_hosts)
        return []  # the controller does not track hosts

    async def _performance(self) -> dict[str, Any] | None:
        body = await get_json(self.client, "/api/performance/metrics", allow_404=True)
        if body is NOT_FOUND:
            return None
        if not isinstance(body, dict):
            raise EndpointError("/api/performance/metrics", "expected an object")
        return body

    def _watch_uptime(self, performance: dict[str, Any] | None) -> None:
        """A FLOPY-NET uptime that went back is a controller restart: tell the API again next poll."""
        totals = (performance or {}).get("totals")
        uptime = totals.get("uptime_seconds") if isinstance(totals, dict) else None
        if isinstance(uptime, int | float) and not isinstance(uptime, bool):
            if self._uptime is not None and uptime < self._uptime:
                self.api = None
            self._uptime = float(uptime)

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
        poll.flows_at_ns = max((read_at for read_at, _ in answers.values()), default=0)
