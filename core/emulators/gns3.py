"""An emulated GNS3 server (controller API v2 and v3) holding FLOPY-NET's basic topology, with a scripted scenario.

Routes (both under ``/v2`` and ``/v3``; see ``_gns3_routes.py``, each route names the upstream function):
``/version``, ``/projects``, ``/projects/{id}`` (+ ``/open``, ``/close``), ``/projects/{id}/links`` (+ ``GET``/``PUT``
``/links/{link_id}``), ``/projects/{id}/nodes`` and the notification WebSocket ``/projects/{id}/notifications/ws``.
v3 wants a bearer token (``POST /v3/access/users/authenticate``, default ``admin``/``admin``) and answers 401
without one; v2 is open unless ``v2_auth`` (HTTP Basic, as the server's ``auth = True``).

The server's behaviour that matters to a collector is reproduced: link filters are cleaned as
``Link.update_filters`` does (a filter whose first value is 0 is dropped, so pure jitter disappears), a suspended
link keeps showing its filters, every real change is announced as ``link.updated`` on the stream (no timestamps;
a ``ping`` first and every ``ping_interval`` when idle), and a project with ``auto_close`` (the default) is closed
``auto_close_delay`` seconds (5 upstream) after its last stream listener left: its nodes are stopped and its links
are served from the topology file. Changes come in through the real ``PUT`` route, also from the script
(:meth:`Gns3Emulator.step` calls it over HTTP, as a scenario script would): the FL server's uplink is degraded to
``degraded_filters`` on tick ``degrade_at`` and restored on tick ``restore_at``. The base faults apply to HTTP;
a path in ``broken_paths`` answers a body that is not JSON, ``send_raw`` pushes a notification that is not one,
``expire_tokens`` makes every v3 token stale.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import trio
from starlette.routing import BaseRoute

from ._gns3_model import Link, Node, Project, clean_filters
from ._gns3_routes import gns3_routes
from ._gns3_topology import flopynet_project
from .base import Emulator

#: The degradation the demo applies to the FL server's uplink: 80 ms each way, 2 % loss.
DEGRADED = {"delay": [80, 0], "packet_loss": [2]}
__all__ = ["DEGRADED", "Gns3Emulator", "flopynet_project", "put_link"]


async def put_link(
    base_url: str,
    project_id: str,
    link_id: str,
    body: dict[str, Any],
    *,
    api: str = "v2",
    token: str | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    """Change a link the way a GNS3 user or scenario script does: ``PUT /{api}/projects/{p}/links/{l}`` (v3 with a
    bearer ``token``, v2 with HTTP Basic ``auth`` when the server wants it)."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0, auth=auth) as client:
        return await client.put(f"/{api}/projects/{project_id}/links/{link_id}", json=body, headers=headers)


class Gns3Emulator(Emulator):
    """A GNS3 controller with one FLOPY-NET project; see the module docstring."""

    label = "gns3"

    def __init__(
        self,
        *,
        clients: int = 2,
        auto_close_delay: float = 5.0,
        ping_interval: float = 5.0,
        username: str = "admin",
        password: str = "admin",
        v2_auth: bool = False,
        degrade_at: int = 3,
        restore_at: int = 6,
        degraded_filters: dict[str, list[Any]] | None = None,
    ) -> None:
        super().__init__()
        self.project = flopynet_project(clients)
        self.projects: dict[str, Project] = {self.project.project_id: self.project}
        self.version = {"v2": "2.2.54", "v3": "3.0.5"}
        self.auto_close_delay = auto_close_delay
        self.ping_interval = ping_interval
        self.credentials = (username, password)
        self.v2_auth = v2_auth
        self.tokens: set[str] = set()
        self.degrade_at, self.restore_at = degrade_at, restore_at
        self.degraded_filters = degraded_filters if degraded_filters is not None else DEGRADED
        self.ticks = 0
        self.listeners: dict[str, set[trio.MemorySendChannel[str]]] = {}
        self.notifications_sent = 0
        self.history: list[tuple[str, dict[str, Any]]] = []  # every link update asked for: (link_id, body)
        self.auto_closed = 0
        self.closed = trio.Event()  # set whenever a project closes (tests await it)
        self.listener_left = trio.Event()  # set whenever a stream listener disconnects

    # -- topology helpers ---------------------------------------------------------------------------------------

    def node(self, name: str, project: Project | None = None) -> Node:
        """The node called ``name``."""
        return next(n for n in (project or self.project).nodes.values() if n.name == name)

    def link_between(self, a: str, b: str, project: Project | None = None) -> Link:
        """The link joining the nodes called ``a`` and ``b``."""
        project = project or self.project
        ids = {self.node(a, project).node_id, self.node(b, project).node_id}
        return next(link for link in project.links.values() if {end[0] for end in link.ends} == ids)

    def issue_token(self) -> str:
        """A new v3 bearer token (what ``/v3/access/users/authenticate`` returns)."""
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        """Fault: every issued token stops being valid (the next request with one gets 401)."""
        self.tokens.clear()

    # -- the server's behaviour ---------------------------------------------------------------------------------

    def update_link(self, project: Project, link: Link, body: dict[str, Any]) -> None:
        """The link route's ``PUT``: filters (``Link.update_filters``), then link style, then suspend; each real
        change is announced as ``link.updated``. Raises TypeError/ValueError on values the server cannot take."""
        self.history.append((link.link_id, dict(body)))
        if "filters" in body:
            cleaned = clean_filters(body["filters"])
            if cleaned != link.filters:
                link.filters = cleaned
                self.notify(project, "link.updated", link.asdict(project.project_id))
        if "link_style" in body and body["link_style"] != link.link_style:
            link.link_style = body["link_style"]
            self.notify(project, "link.updated", link.asdict(project.project_id))
        if "suspend" in body and bool(body["suspend"]) != link.suspend:
            link.suspend = bool(body["suspend"])
            self.notify(project, "link.updated", link.asdict(project.project_id))

    def notify(self, project: Project, action: str, event: dict[str, Any]) -> None:
        """``Notification.project_emit``: queue ``{"action", "event"}`` (sorted keys, no timestamp) to listeners."""
        self.send_raw(project, json.dumps({"action": action, "event": event}, sort_keys=True))

    def send_raw(self, project: Project, message: str) -> None:
        """Queue ``message`` as it is to the project's listeners (also a fault: a notification that is not one)."""
        for channel in list(self.listeners.get(project.project_id, ())):
            with contextlib.suppress(trio.WouldBlock, trio.BrokenResourceError):
                channel.send_nowait(message)
                self.notifications_sent += 1

    @contextlib.contextmanager
    def listening(self, project: Project) -> Iterator[trio.MemoryReceiveChannel[str]]:
        """``Notification.project_queue``: a queue of this project's notifications while the caller listens."""
        send, receive = trio.open_memory_channel[str](1000)
        self.listeners.setdefault(project.project_id, set()).add(send)
        try:
            yield receive
        finally:
            self.listeners[project.project_id].discard(send)

    async def after_listener_left(self, project: Project) -> None:
        """What the notification routes do when a listener leaves: with ``auto_close``, wait, then close the
        project if nobody listens any more."""
        self.listener_left.set()
        self.listener_left = trio.Event()
        if project.auto_close:
            await trio.sleep(self.auto_close_delay)
            if not self.listeners.get(project.project_id):
                self.auto_closed += 1
                self.close_project(project)

    def close_project(self, project: Project) -> None:
        """``Project.close``: stop every node, mark the project closed and announce ``project.closed``."""
        if project.status == "closed":
            return
        for node in project.nodes.values():
            node.status = "stopped"
        project.status = "closed"
        self.notify(project, "project.closed", project.asdict())
        self.closed.set()
        self.closed = trio.Event()

    def open_project(self, project: Project) -> None:
        """``Project.open``: filters and link styles come back from the topology file, suspension does not."""
        if project.status == "opened":
            return
        project.status = "opened"
        for link in project.links.values():
            link.suspend = False

    # -- scenario -----------------------------------------------------------------------------------------------

    async def step(self) -> None:
        """One tick: on ``degrade_at`` the FL server's uplink gets ``degraded_filters``, on ``restore_at`` it is
        restored (no filters), both through the real ``PUT`` route."""
        self.ticks += 1
        if self.url is None or self.project.status != "opened":
            return
        uplink = self.link_between("fl-server", "openvswitch")
        filters = {self.degrade_at: self.degraded_filters, self.restore_at: {}}.get(self.ticks)
        if filters is not None:
            auth = self.credentials if self.v2_auth else None
            await put_link(self.url, self.project.project_id, uplink.link_id, {"filters": filters}, auth=auth)

    def routes(self) -> list[BaseRoute]:
        """The controller's routes under ``/v2`` and ``/v3``."""
        return gns3_routes(self)
