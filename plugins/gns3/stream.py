"""The ``gns3_stream`` listener: the project's notification WebSocket, for link changes within a second.

It follows a ``gns3`` monitor (``monitor = "<instance>"``): same server, credentials and project, and the same
tracker, so a change is reported once, by the stream or by the poll, whichever sees it first; the poll goes on and
reconciles anything the stream missed (while reconnecting, say). GNS3's messages have no time: each is stamped when
it arrives. ``link.updated`` gives ``LINK_CONFIG_CHANGED`` (``detected_by = "stream"``), ``project.closed``
gives ``GNS3_PROJECT_CLOSED``; the server's ``ping`` (first, then every 5 s when idle) keeps the connection known
alive. A dropped connection is retried after ``reconnect_delay`` (doubling to ``max_reconnect_delay``): GNS3 closes
a project with ``auto_close`` (the default) 5 s after its last listener left, and that stops every node of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import trio
from flcollector import (
    Duration,
    EndpointError,
    Event,
    Listener,
    Record,
    Runtime,
    Send,
    endpoint_error_event,
    now_ns,
    option_doc,
)
from trio_websocket import ConnectionClosed, DisconnectionTimeout, HandshakeError, open_websocket_url

from . import convert
from .conditions import parse_link
from .monitor import Gns3Monitor

_CONNECTION_ERRORS = (OSError, HandshakeError, ConnectionClosed, DisconnectionTimeout, trio.BrokenResourceError)


@attrs.define
class Gns3StreamOptions:
    """Options of the ``gns3_stream`` listener."""

    monitor: str = attrs.field(default="gns3", metadata=option_doc(
        "the `gns3` monitor instance whose server, project and change tracking it shares"))
    reconnect_delay: Duration = attrs.field(default=Duration(1.0), metadata=option_doc(
        "first retry after a dropped connection, doubling (keep it under 5 s)"))
    max_reconnect_delay: Duration = attrs.field(default=Duration(30.0), metadata=option_doc(
        "the longest wait between retries"))
    idle_timeout: Duration = attrs.field(default=Duration(20.0), metadata=option_doc(
        "nothing received for this long (GNS3 pings every 5 s when idle): reconnect"))


class Gns3StreamListener(Listener):
    """Listens to a GNS3 project's notifications; see the module docstring."""

    name = "gns3_stream"
    Options = Gns3StreamOptions

    def __init__(self, options: Gns3StreamOptions, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.options: Gns3StreamOptions = options
        self.monitor: Gns3Monitor | None = None  # found at run() unless a test sets it
        self.connected = False

    def _find_monitor(self) -> Gns3Monitor | None:
        agent = self.runtime.agent
        found = agent.find("monitor", self.options.monitor) if agent is not None else None
        return found if isinstance(found, Gns3Monitor) else None

    async def run(self, send: Send, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        """Wait for the monitor to find the project, then listen (reconnecting) until cancelled."""
        task_status.started()
        monitor = self.monitor or self._find_monitor()
        if monitor is None:
            self.runtime.stats.failure(f"no gns3 monitor named {self.options.monitor!r} to follow", status="error")
            self.log.error("gns3_stream: no [[monitors.gns3]] instance named %r; not listening", self.options.monitor)
            return
        self.monitor = monitor
        delay, lost = float(self.options.reconnect_delay), False
        await monitor.project_found.wait()  # the first successful poll chose the project
        while True:
            try:
                await self._listen(monitor, send)
            except (*_CONNECTION_ERRORS, trio.TooSlowError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                problem = "the server closed the stream"
            if self.connected:
                delay, lost = float(self.options.reconnect_delay), False
            self.connected = False
            self.runtime.stats.failure(problem, status="down")
            if not lost:
                lost = True
                self.log.warning("GNS3 notification stream lost: %s", problem)
                await send([self._event("GNS3_STREAM_LOST", "WARNING", f"GNS3 stream lost: {problem}", error=problem)])
            await trio.sleep(delay)
            delay = min(delay * 2, float(self.options.max_reconnect_delay))

    async def _listen(self, monitor: Gns3Monitor, send: Send) -> None:
        url, headers = monitor.api.stream_target()
        async with open_websocket_url(url, extra_headers=headers, connect_timeout=10, disconnect_timeout=2) as ws:
            while True:
                with trio.fail_after(float(self.options.idle_timeout)):
                    text = await ws.get_message()
                arrived = now_ns()
                if not self.connected:
                    self.connected = True
                    self.runtime.stats.success()
                    await send([self._connected_event(monitor)])
                records = self.handle(monitor, text, arrived)
                if records:
                    await send(records)

    def handle(self, monitor: Gns3Monitor, text: str | bytes, arrived_ns: int) -> list[Record]:
        """The records one notification gives (an error event for one that is not a GNS3 notification)."""
        self.runtime.stats.count("notifications")
        try:
            message = json.loads(text)
            action, event = message["action"], message["event"]
            if not isinstance(action, str) or not isinstance(event, Mapping):
                raise ValueError("action must be a string and event an object")
            if action == "link.updated":
                return self._link_updated(monitor, event, arrived_ns)
        except (ValueError, KeyError, TypeError) as exc:
            error = EndpointError(f"/{monitor.api.api}/projects/{monitor.api.project_id}/notifications/ws", str(exc))
            return [endpoint_error_event(self.runtime, error, role="listener")]
        if action == "project.closed" and event.get("project_id") == monitor.api.project_id:
            if monitor.tracker.observe_status("closed"):
                return [convert.closed_event({**monitor.project, **event}, arrived_ns, "stream")]
        elif action == "log.error":  # v3: the token was refused; the poll takes a new one, the next connect uses it
            self.log.warning("GNS3 stream refused: %s", event.get("message"))
        return []

    def _link_updated(self, monitor: Gns3Monitor, event: Mapping[str, Any], arrived_ns: int) -> list[Record]:
        link = parse_link(event)
        if event.get("project_id", monitor.api.project_id) != monitor.api.project_id:
            return []
        if link.link_id not in monitor.links:
            return []  # a link the poll has not seen yet: the next poll takes it as a baseline
        change = monitor.tracker.observe(link.link_id, link.filters, link.suspend, arrived_ns, "stream")
        if change is None:
            return []
        monitor.links[link.link_id] = link
        return [convert.change_event(monitor.project_name, link, monitor.nodes, change)]

    def _connected_event(self, monitor: Gns3Monitor) -> Event:
        auto_close = bool(monitor.project.get("auto_close", True))
        warning = " (auto_close is on: if this agent stays away 5 s, GNS3 closes the project)" if auto_close else ""
        return self._event("GNS3_STREAM_CONNECTED", "WARNING" if auto_close else "INFO",
                           f"listening to GNS3 project {monitor.project_name}{warning}",
                           project=monitor.project_name, project_id=monitor.api.project_id, auto_close=auto_close)

    def _event(self, kind: str, level: Any, message: str, **details: Any) -> Event:
        return Event(kind, message, now_ns(), self.runtime.instance, level,
                     {"listener": self.runtime.instance, **details})
