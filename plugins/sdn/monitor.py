"""The ``sdn`` monitor: topology, port rates, flows and performance from a Ryu or ONOS controller.

Per poll it returns ``sdn_port`` (per-port rates), ``sdn_flows`` (per switch) and one ``network`` metric (the flat
figures the dashboard reads), plus documents as events, each only when it changed: ``TOPOLOGY_SNAPSHOT`` (with
``NODE_CONNECTED``/``NODE_DISCONNECTED``/``LINK_ADDED``/``LINK_REMOVED`` for the difference), ``FLOW_SNAPSHOT``
and ``PERFORMANCE_SNAPSHOT``. The server answers the dashboard's "live" routes from the latest of these.
State (counter baselines, last documents) is committed only when records are returned, so a poll cut short by a
timeout is simply repeated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs
import httpx
import orjson
from flcollector import EndpointError, Event, MalformedResponse, Metric, Monitor, Record, Runtime, now_ns

from . import diff, stats, topology
from .controllers import OnosSource, Poll, RyuSource
from .performance import network_fields, performance_document
from .rates import PortRates
from .topology import SOURCE


@attrs.define
class SdnOptions:
    """Options of the ``sdn`` monitor."""

    url: str = "http://sdn-controller:8181"
    controller: Literal["ryu", "onos"] = "ryu"
    username: str = "onos"  # ONOS only (HTTP Basic)
    password: str = "rocks"  # ONOS only
    #: requests in flight at once during one poll
    max_concurrent_requests: int = attrs.field(default=16, validator=attrs.validators.ge(1))


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
        self.topology: dict[str, Any] | None = None
        self.topology_key: bytes | None = None
        self.flow_key: list[str] | None = None
        self.performance_key: bytes | None = None

    async def open(self) -> None:
        """Create the HTTP client (HTTP Basic for ONOS) and the controller adapter."""
        auth = (self.options.username, self.options.password) if self.options.controller == "onos" else None
        self.client = httpx.AsyncClient(
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
        records.extend(self._endpoint_error(error) for error in poll.errors)
        commit()
        return records

    def _build(self, poll: Poll) -> tuple[list[Record], Any]:
        now = now_ns()
        records: list[Record] = []
        samples: dict[Any, Any] = {}
        ports: list[Metric] = []
        for dpid, (time_ns, counters) in sorted(poll.port_counters.items()):
            metrics, taken = self.rates.rates(dpid, time_ns, counters)
            ports.extend(metrics)
            samples.update(taken)
        records.extend(ports)
        flow_key = self.flow_key
        if poll.flows is not None:
            all_flows = [flow for dpid in sorted(poll.flows) for flow in poll.flows[dpid]]
            for dpid, flows in sorted(poll.flows.items()):
                records.append(
                    Metric(
                        "sdn_flows",
                        {
                            "flows": len(flows),
                            "active_flows": sum(1 for f in flows if f["packet_count"] > 0),
                            "packets": sum(f["packet_count"] for f in flows),
                            "bytes": sum(f["byte_count"] for f in flows),
                        },
                        now,
                        {"switch": dpid},
                        SOURCE,
                    )
                )
            flow_key = stats.flow_identity(all_flows)
            if flow_key != self.flow_key:
                summary = stats.flow_summary(all_flows)
                records.append(
                    Event(
                        "FLOW_SNAPSHOT",
                        f"{len(all_flows)} flows on {summary['switches_with_flows']} switches",
                        now,
                        SOURCE,
                        "INFO",
                        {"flows": all_flows, "summary": summary},
                    )
                )
        topology_now, topology_key = self.topology, self.topology_key
        if poll.topology_complete:
            assert poll.switches is not None and poll.links is not None and poll.hosts is not None
            topology_now = topology.snapshot(poll.switches, poll.links, poll.hosts)
            topology_key = diff.fingerprint(topology_now)
            if topology_key != self.topology_key:
                if self.topology is not None:
                    records.extend(diff.changes(self.topology, topology_now, now))
                records.append(
                    Event(
                        "TOPOLOGY_SNAPSHOT",
                        f"{len(poll.switches)} switches, {len(poll.links)} links, {len(poll.hosts)} hosts",
                        now,
                        SOURCE,
                        "INFO",
                        topology_now,
                    )
                )
        performance = performance_document(poll, ports)
        performance_key = orjson.dumps(
            {k: v for k, v in performance.items() if k != "timestamp"}, option=orjson.OPT_SORT_KEYS
        )
        if performance_key != self.performance_key:
            records.append(Event("PERFORMANCE_SNAPSHOT", "controller performance", now, SOURCE, "INFO", performance))
        records.append(
            Metric("network", network_fields(poll, ports, performance, self.options.controller), now, source=SOURCE)
        )

        def commit() -> None:
            self.rates.commit(samples, [s["dpid"] for s in poll.switches] if poll.switches is not None else None)
            self.flow_key, self.topology, self.topology_key = flow_key, topology_now, topology_key
            self.performance_key = performance_key
            self.runtime.stats.extra["sdn"] = {
                "controller": self.options.controller,
                "switches": len(poll.switches or []),
                "counter_resets": self.rates.resets,
                "flow_route": getattr(self.source, "flow_route", None),
            }

        return records, commit

    def _endpoint_error(self, error: EndpointError) -> Event:
        self.runtime.stats.count("malformed" if error.malformed else "endpoint_errors")
        self.log.warning("SDN controller endpoint %s failed: %s", error.endpoint, error.reason)
        return Event(
            type="MALFORMED_RESPONSE" if error.malformed else "ENDPOINT_ERROR",
            message=f"{self.runtime.instance}: {error}",
            source=self.runtime.instance,
            level="ERROR",
            details={"monitor": self.runtime.instance, "endpoint": error.endpoint, "error": error.reason},
        )
