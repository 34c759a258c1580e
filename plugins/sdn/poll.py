"""What one poll of a controller yields, for Ryu and for ONOS: the same normalised :class:`Poll`.

Fetching has no side effect on the monitor's state (only the Ryu flow route, once discovered, is remembered), so a
poll cut short by a timeout is simply repeated. Per-switch requests run concurrently, at most
``max_concurrent_requests`` at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

import attrs
import httpx
import trio
from flcollector import NOT_FOUND, EndpointError, gather_endpoints, get_json, now_ns

from . import stats, topology

_SHAPE_ERRORS = (topology.ShapeError, KeyError, TypeError, ValueError, AttributeError, IndexError)


@attrs.define
class Poll:
    """One poll's normalised data; ``None`` means "not known this time" (an endpoint failed), never "empty"."""

    switches: list[dict[str, Any]] | None = None
    links: list[dict[str, Any]] | None = None
    hosts: list[dict[str, Any]] | None = None
    port_counters: dict[str, tuple[int, list[dict[str, Any]]]] = attrs.field(factory=dict)
    flows: dict[str, list[dict[str, Any]]] | None = None
    performance: dict[str, Any] | None = None
    errors: list[EndpointError] = attrs.field(factory=list)
    partial_switches: bool = False  # some switch details (ONOS per-device ports) are missing this time

    @property
    def topology_complete(self) -> bool:
        """Whether switches, links and hosts are all fully known (only then can topologies be compared)."""
        known = self.switches is not None and self.links is not None and self.hosts is not None
        return known and not self.partial_switches


def parse(path: str, body: Any, parser: Callable[[Any], Any]) -> Any:
    """Apply ``parser`` to ``body``; a shape error becomes an :class:`EndpointError` naming ``path``."""
    try:
        return parser(body)
    except _SHAPE_ERRORS as exc:
        raise EndpointError(path, f"unexpected shape ({type(exc).__name__}: {exc})") from None


def _take(poll: Poll, results: dict[Hashable, Any], key: Hashable) -> Any:
    """The result of job ``key``, or None after filing its error in ``poll.errors``."""
    value = results.get(key)
    if isinstance(value, EndpointError):
        poll.errors.append(value)
        return None
    return value


class RyuSource:
    """Ryu REST (``rest_topology`` + FLOPY-NET's stats routes, or ``ofctl_rest``)."""

    def __init__(self, client: httpx.AsyncClient, concurrency: int) -> None:
        self.client = client
        self.concurrency = concurrency
        self.flow_route = "/stats/flow/"  # ofctl_rest; FLOPY-NET's controller only has /stats/flowentry/

    async def _get(self, path: str, parser: Callable[[Any], Any], **kwargs: Any) -> Any:
        return parse(path, await get_json(self.client, path, **kwargs), parser)

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

    async def _ports(self, dpid: str) -> tuple[int, list[dict[str, Any]]] | None:
        key = str(int(dpid, 16))  # ofctl_rest wants a decimal DPID and echoes it as the key
        path = f"/stats/port/{key}"
        body = await get_json(self.client, path, allow_404=True)
        if body is NOT_FOUND:  # the switch left between the topology call and this one
            return None
        return now_ns(), parse(path, body, lambda b: stats.ryu_port_counters(b, key))

    async def _flows(self, dpid: str) -> list[dict[str, Any]] | None:
        key = str(int(dpid, 16))
        routes = [self.flow_route, *(r for r in ("/stats/flow/", "/stats/flowentry/") if r != self.flow_route)]
        for route in routes:
            body = await get_json(self.client, route + key, allow_404=True)
            if body is not NOT_FOUND:
                self.flow_route = route
                return parse(route + key, body, lambda b: stats.ryu_flows(b, key, dpid))
        return None

    async def poll(self) -> Poll:
        """Poll the topology, then links, hosts, performance and per-switch ports and flows concurrently."""
        result = Poll()
        try:
            result.switches = await self._get("/v1.0/topology/switches", topology.ryu_switches, main=True)
        except EndpointError as exc:
            result.errors.append(exc)
        dpids = [s["dpid"] for s in result.switches or [] if len(s["dpid"]) == 16]
        jobs: dict[Hashable, Callable[[], Any]] = {
            "links": lambda: self._get("/v1.0/topology/links", topology.ryu_links),
            "hosts": self._hosts,
            "performance": self._performance,
        }
        for dpid in dpids:
            jobs["ports", dpid] = functools.partial(self._ports, dpid)
            jobs["flows", dpid] = functools.partial(self._flows, dpid)
        results = await gather_endpoints(jobs, trio.CapacityLimiter(self.concurrency))
        result.links, result.hosts = _take(result, results, "links"), _take(result, results, "hosts")
        result.performance = _take(result, results, "performance")
        flows: dict[str, list[dict[str, Any]]] | None = {} if result.switches is not None else None
        for dpid in dpids:
            if (ports := _take(result, results, ("ports", dpid))) is not None:
                result.port_counters[dpid] = ports
            switch_flows = _take(result, results, ("flows", dpid))
            if switch_flows is None or flows is None:
                flows = None  # one switch unknown: the flow table as a whole is unknown this time
            else:
                flows[dpid] = switch_flows
        result.flows = flows
        return result


class OnosSource:
    """ONOS REST (``/onos/v1``), HTTP Basic auth set on the client."""

    def __init__(self, client: httpx.AsyncClient, concurrency: int) -> None:
        self.client = client
        self.concurrency = concurrency

    async def _get(self, path: str, parser: Callable[[Any], Any] = lambda body: body) -> Any:
        return parse(path, await get_json(self.client, path), parser)

    async def _statistics(self) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        body = await get_json(self.client, "/onos/v1/statistics/ports")
        return now_ns(), parse("/onos/v1/statistics/ports", body, stats.onos_port_counters)

    async def poll(self) -> Poll:
        """Poll devices, then links, hosts, flows, port statistics and per-device ports concurrently."""
        result = Poll()
        devices: Any = None
        ids: list[str] | None = None
        try:
            devices = await get_json(self.client, "/onos/v1/devices", main=True)
            ids = parse("/onos/v1/devices", devices, lambda b: [str(d["id"]) for d in b["devices"]])
        except EndpointError as exc:
            result.errors.append(exc)
        jobs: dict[Hashable, Callable[[], Any]] = {
            "links": lambda: self._get("/onos/v1/links", topology.onos_links),
            "hosts": lambda: self._get("/onos/v1/hosts", topology.onos_hosts),
            "flows": lambda: self._get("/onos/v1/flows", stats.onos_flows),
            "statistics": self._statistics,
        }
        for device in ids or []:
            jobs["ports", device] = functools.partial(self._get, f"/onos/v1/devices/{device}/ports")
        results = await gather_endpoints(jobs, trio.CapacityLimiter(self.concurrency))
        port_answers = {d: _take(result, results, ("ports", d)) for d in ids or []}
        result.partial_switches = any(answer is None for answer in port_answers.values())
        if ids is not None:
            try:
                result.switches = parse(
                    "/onos/v1/devices/*/ports", devices, lambda b: topology.onos_switches(b, port_answers)
                )
            except EndpointError as exc:
                result.errors.append(exc)
        result.links, result.hosts = _take(result, results, "links"), _take(result, results, "hosts")
        result.flows = _take(result, results, "flows")
        if result.flows is not None and result.switches is not None:
            result.flows = {s["dpid"]: result.flows.get(s["dpid"], []) for s in result.switches}
        if (statistics := _take(result, results, "statistics")) is not None:
            time_ns, by_switch = statistics
            result.port_counters = {dpid: (time_ns, ports) for dpid, ports in by_switch.items()}
        return result
