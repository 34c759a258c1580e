"""The ``gns3`` monitor: what the GNS3 topology was configured to do, per link, polled from the controller's API.

Every poll: the project (the main endpoint: down, 5xx or a refused token means the source is unavailable), then
concurrently its links and nodes. It returns one ``gns3_link`` metric per link (the configured delay, jitter,
loss, corruption, frequency drop and suspension, with what they should add to a round trip) and one
``gns3_project`` metric; ``GNS3_PROJECT_SNAPSHOT`` on the first poll and whenever the links, nodes or project status
change; ``LINK_CONFIG_CHANGED`` when a link's filters or suspension changed since the last poll (or the stream
listener, ``stream.py``, which shares this monitor's tracker, reported it first); ``GNS3_PROJECT_CLOSED`` when the
project is (found) closed. Nothing is committed before the records are returned, so a poll cut short is repeated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
import trio
from flcollector import (
    EndpointError,
    MalformedResponse,
    Monitor,
    Record,
    Runtime,
    endpoint_error_event,
    gather_endpoints,
    now_ns,
    option_doc,
)

from . import convert
from .api import Gns3Api
from .conditions import LinkConfig, NodeInfo, parse_link, parse_node
from .tracker import LinkTracker


@attrs.define
class Gns3Options:
    """Options of the ``gns3`` monitor."""

    url: str = attrs.field(default="http://localhost:3080", metadata=option_doc("the GNS3 server (controller)"))
    project_id: str = attrs.field(default="", metadata=option_doc(
        "the project to follow; else `project_name`; else the only opened project"))
    project_name: str = attrs.field(default="", metadata=option_doc(
        "else the project of this name (FLOPY-NET's is `basic_federated_learning`)"))
    api: Literal["auto", "v2", "v3"] = attrs.field(default="auto", metadata=option_doc(
        '`"auto"` (v2 if `/v2/version` answers, else v3), `"v2"` or `"v3"`'))
    username: str = attrs.field(default="", metadata=option_doc(
        "v2: HTTP Basic (server `auth = True`); v3: to take a token"))
    password: str = attrs.field(default="", metadata=option_doc("the password of `username`"))
    token: str = attrs.field(default="", metadata=option_doc("v3: a bearer token, instead of `username`/`password`"))


class Gns3Monitor(Monitor):
    """Polls a GNS3 project's links and nodes; see the module docstring."""

    name = "gns3"
    Options = Gns3Options

    def __init__(self, options: Gns3Options, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.options: Gns3Options = options
        self.api = Gns3Api(options)
        self.tracker = LinkTracker()
        self.project: Mapping[str, Any] = {}
        self.nodes: dict[str, NodeInfo] = {}
        self.links: dict[str, LinkConfig] = {}
        self.snapshot_key: Any = None
        self.project_found = trio.Event()  # set by the first poll that read the project (the stream waits for it)

    async def open(self) -> None:
        """Create the HTTP client."""
        await self.api.open()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.api.close()

    @property
    def project_name(self) -> str:
        """The followed project's name ("" before the first poll)."""
        return str(self.project.get("name", ""))

    @property
    def _server(self) -> tuple[str, str]:
        return self.api.api or "", self.api.server_version

    async def collect(self) -> Iterable[Record]:
        """Poll once and return the new records."""
        try:
            await self.api.prepare()
            project = await self.api.project()
        except EndpointError as exc:  # the server answered, but not a project: nothing usable this poll
            raise MalformedResponse(str(exc)) from None
        asked_ns = now_ns()
        results = await gather_endpoints({"links": self._links, "nodes": self._nodes})
        records = self._build(project, results, asked_ns)
        records.extend(endpoint_error_event(self.runtime, e) for e in results.values() if isinstance(e, EndpointError))
        return records

    async def _links(self) -> list[LinkConfig]:
        return _parsed(await self.api.get(f"/projects/{self.api.project_id}/links"), parse_link, "links", self.api)

    async def _nodes(self) -> list[NodeInfo]:
        return _parsed(await self.api.get(f"/projects/{self.api.project_id}/nodes"), parse_node, "nodes", self.api)

    def _build(self, project: Mapping[str, Any], results: Mapping[Any, Any], asked_ns: int) -> list[Record]:
        """Records of this poll, and the state they commit (no awaits from here to the return)."""
        now = now_ns()
        links = results["links"] if isinstance(results.get("links"), list) else None
        if isinstance(results.get("nodes"), list):
            self.nodes = {node.node_id: self._with_known_ports(node) for node in results["nodes"]}
        self.project = project
        self.project_found.set()
        records: list[Record] = []
        if self.tracker.observe_status(str(project["status"])):
            records.append(convert.closed_event(project, now, "poll"))
        if links is not None:
            records.extend(self._link_records(links, now, asked_ns))
            nodes = sorted((n.node_id, n.name, n.status or "") for n in self.nodes.values())
            key = (project["status"], sorted((link.link_id, link.ends) for link in links), nodes)
            if key != self.snapshot_key:
                self.snapshot_key = key
                records.append(convert.snapshot_event(project, links, self.nodes, *self._server, now))
        records.append(convert.project_metric(project, links, self.nodes, *self._server, now))
        self.runtime.stats.extra["gns3"] = {"project": self.project_name, "api": self.api.api,
                                            "status": project["status"]}
        return records

    def _with_known_ports(self, node: NodeInfo) -> NodeInfo:
        """A closed project's nodes come without ports: keep the names seen while it was open (stable tags)."""
        known = self.nodes.get(node.node_id)
        return attrs.evolve(node, ports=known.ports) if not node.ports and known is not None else node

    def _link_records(self, links: list[LinkConfig], now: int, asked_ns: int) -> list[Record]:
        records: list[Record] = []
        for link in links:
            change = self.tracker.observe(link.link_id, link.filters, link.suspend, now, "poll", asked_ns)
            seen = self.tracker.current(link.link_id)
            if seen is not None:  # the stream may know a newer configuration than this answer
                link = attrs.evolve(link, filters=seen.filters, suspend=seen.suspend)
            self.links[link.link_id] = link
            records.append(convert.link_metric(self.project_name, link, self.nodes, now))
            if change is not None:
                records.append(convert.change_event(self.project_name, link, self.nodes, change))
        self.tracker.forget_except({link.link_id for link in links})
        for gone in set(self.links) - {link.link_id for link in links}:
            del self.links[gone]
        return records


def _parsed(body: Any, parse: Any, what: str, api: Gns3Api) -> list[Any]:
    endpoint = f"/{api.api}/projects/{api.project_id}/{what}"
    if not isinstance(body, list):
        raise EndpointError(endpoint, f"expected a list of {what}")
    try:
        return [parse(item) for item in body]
    except ValueError as exc:
        raise EndpointError(endpoint, str(exc)) from None
