"""ONOS's REST API (``/onos/v1``): everything but per-device ports in one request per kind; the flows are read before
and after the port statistics (ONOS answers both from its stats loop: see :mod:`.snapshot`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

import httpx
import trio
from flcollector import EndpointError, gather_endpoints, get_json, now_ns

from . import snapshot, stats, topology
from .poll import Poll, parse, take


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

    async def _flows(self) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        """The flow counters and when they were read (the traffic of an interval is timed by its counters)."""
        body = await get_json(self.client, "/onos/v1/flows")
        return now_ns(), parse("/onos/v1/flows", body, stats.onos_flows)

    async def poll(self) -> Poll:
        """Poll devices and the flows, then links, hosts, port statistics and per-device ports concurrently, then the
        flows again until they read as before the port statistics (one snapshot, see :mod:`.snapshot`)."""
        result = Poll()
        first: dict[Hashable, Callable[[], Any]] = {"devices": self._devices, "flows": self._flows}
        got = await gather_endpoints(first)
        devices, opened = take(result, got, "devices"), take(result, got, "flows")
        ids: list[str] | None = None
        if devices is not None:
            try:
                ids = parse("/onos/v1/devices", devices, lambda b: [str(d["id"]) for d in b["devices"]])
            except EndpointError as exc:
                result.errors.append(exc)
        jobs: dict[Hashable, Callable[[], Any]] = {
            "links": lambda: self._get("/onos/v1/links", topology.onos_links),
            "hosts": lambda: self._get("/onos/v1/hosts", topology.onos_hosts),
            "statistics": self._statistics,
        }
        for device in ids or []:
            jobs["ports", device] = functools.partial(self._get, f"/onos/v1/devices/{device}/ports")
        results = await gather_endpoints(jobs, trio.CapacityLimiter(self.concurrency))
        port_answers = {d: take(result, results, ("ports", d)) for d in ids or []}
        result.partial_switches = any(answer is None for answer in port_answers.values())
        if ids is not None:
            try:
                result.switches = parse(
                    "/onos/v1/devices/*/ports", devices, lambda b: topology.onos_switches(b, port_answers)
                )
            except EndpointError as exc:
                result.errors.append(exc)
        result.links, result.hosts = take(result, results, "links"), take(result, results, "hosts")
        self._take_statistics(result, results)

        async def statistics_again() -> None:
            again: dict[Hashable, Callable[[], Any]] = {"statistics": self._statistics}
            self._take_statistics(result, await gather_endpoints(again))

        if opened is not None and (timed := await snapshot.settle(result, opened[1], self._flows, statistics_again)):
            result.flows_at_ns, result.flows, result.flows_read_ns = timed
        if result.flows is not None and result.switches is not None:
            result.flows = {s["dpid"]: result.flows.get(s["dpid"], []) for s in result.switches}
        return result

    async def _devices(self) -> Any:
        return await get_json(self.client, "/onos/v1/devices", main=True)

    @staticmethod
    def _take_statistics(poll: Poll, results: dict[Hashable, Any]) -> None:
        """The port counters of every device, timed by the answer (none when it failed)."""
        poll.port_counters = {}
        if (statistics := take(poll, results, "statistics")) is not None:
            time_ns, by_switch = statistics
            poll.port_counters = {dpid: (time_ns, ports) for dpid, ports in by_switch.items()}
