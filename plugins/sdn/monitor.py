"""The ``sdn`` monitor: topology, port rates, flows, traffic classes and performance from a Ryu or ONOS controller.

Per poll it returns ``sdn_port`` (per-port rates), ``sdn_flows`` (per switch), ``sdn_traffic`` (FL / control /
background bytes of the interval), ``sdn_traffic_rule`` (per classification rule), ``sdn_fl_peer`` (bytes between
the FL server and each peer, per direction) and one ``network`` metric (the flat figures the dashboard reads), plus
documents as events, each only when it changed: ``TOPOLOGY_SNAPSHOT`` (with ``NODE_CONNECTED``/
``NODE_DISCONNECTED``/``LINK_ADDED``/``LINK_REMOVED`` for the difference), ``FLOW_SNAPSHOT`` and
``PERFORMANCE_SNAPSHOT``. The server answers the dashboard's "live" routes from the latest of these.
State (counter baselines, last documents) is committed only when records are returned, so a poll cut short by a
timeout is simply repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
from flcollector import HttpClient, MalformedResponse, Metric, Monitor, Record, Runtime, endpoint_error_event, now_ns

from .accounting import HostTable, TrafficAccounting
from .documents import flow_records, performance_records, topology_records
from .onos import OnosSource
from .options import SdnOptions
from .performance import network_fields, performance_document
from .poll import Poll
from .rates import PortRates
from .ryu import RyuSource
from .topology import SOURCE
from .traffic import built_in_rules, rule_from_table

__all__ = ["SdnMonitor", "SdnOptions"]


class SdnMonitor(Monitor):
    """Polls an SDN controller; see the module docstring."""

    name = "sdn"
    Options = SdnOptions

    def __init__(self, options: SdnOptions, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.options: SdnOptions = options
        self.client: httpx.AsyncClient | None = None
        self.source: RyuSource | OnosSource | None = None
        self.rates = PortRates()
        rules = [rule_from_table(table, i) for i, table in enumerate(options.traffic_rules)]
        self.traffic = TrafficAccounting(rules + built_in_rules(options), options.fl_server_addresses)
        self.topology: dict[str, Any] | None = None
        self.topology_key: bytes | None = None
        self.flow_key: list[str] | None = None
        self.performance_key: bytes | None = None

    async def open(self) -> None:
        """Create the HTTP client (HTTP Basic for ONOS) and the controller adapter."""
        auth = (self.options.username, self.options.password) if self.options.controller == "onos" else None
        self.client = HttpClient(
            base_url=self.options.url.rstrip("/"),
            auth=auth,
            timeout=10.0,
            limits=httpx.Limits(max_connections=self.options.max_concurrent_requests + 4),
        )
        kind = OnosSource if self.options.controller == "onos" else RyuSource
        self.source = kind(self.client, self.options.max_concurrent_requests)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self.client is not None:
            await self.client.aclose()

    async def collect(self) -> Iterable[Record]:
        """Poll once and return the new records."""
        if self.source is None:
            await self.open()
        assert self.source is not None
        poll = await self.source.poll()
        usable = (poll.switches, poll.links, poll.hosts, poll.flows, poll.performance)
        if poll.errors and all(part is None for part in usable) and not poll.port_counters:
            raise MalformedResponse("; ".join(str(e) for e in poll.errors))
        records, commit = self._build(poll)
        records.extend(endpoint_error_event(self.runtime, error) for error in poll.errors)
        commit()
        return records

    def _build(self, poll: Poll) -> tuple[list[Record], Callable[[], None]]:
        now = now_ns()
        records: list[Record] = []
        samples: dict[Any, Any] = {}
        ports: list[Metric] = []
        resets = 0
        for dpid, (time_ns, counters) in sorted(poll.port_counters.items()):
            metrics, taken, seen_resets = self.rates.rates(dpid, time_ns, counters)
            ports.extend(metrics)
            samples.update(taken)
            resets += seen_resets
        records.extend(ports)
        flows, flow_key = flow_records(poll, self.flow_key, now)
        records += flows
        topology_events, topology_now, topology_key = topology_records(poll, self.topology, self.topology_key, now)
        records += topology_events
        traffic, commit_traffic = self._traffic(poll, topology_now, topology_key)
        records += traffic
        performance = performance_document(poll, ports)
        snapshot, performance_key = performance_records(performance, self.performance_key, now)
        records += snapshot
        fields = network_fields(poll, ports, performance, self.options.controller)
        records.append(Metric("network", fields, now, source=SOURCE))

        def commit() -> None:
            switches = [s["dpid"] for s in poll.switches] if poll.switches is not None else None
            self.rates.commit(samples, switches, resets)
            commit_traffic()
            self.flow_key, self.topology, self.topology_key = flow_key, topology_now, topology_key
            self.performance_key = performance_key
            self.runtime.stats.extra["sdn"] = {
                "controller": self.options.controller,
                "api": getattr(self.source, "api", None),
                "api_detections": getattr(self.source, "detections", None),
                "switches": len(poll.switches or []),
                "counter_resets": self.rates.resets,
                "flow_counter_resets": self.traffic.resets,
            }

        return records, commit

    def _traffic(
        self, poll: Poll, known: dict[str, Any] | None, key: bytes | None
    ) -> tuple[list[Metric], Callable[[], None]]:
        """The interval's traffic records from the flow counters (none when the flow table is unknown); the
        topology's hosts and links place the flows (the last known ones where this poll lacks them)."""
        if poll.flows is None:
            return [], lambda: None
        last = known or {}
        hosts = poll.hosts if poll.hosts is not None else last.get("hosts", [])
        links = poll.links if poll.links is not None else last.get("links", [])
        table = HostTable(hosts, links, key if poll.topology_complete else None)
        at = poll.flows_at_ns or now_ns()
        return self.traffic.account(poll.flows, table, at, poll.flows_read_ns or at)
