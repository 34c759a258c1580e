"""The ``server`` listener: serves the REST API, WebSockets and ``/metrics`` with hypercorn's Trio worker."""

from __future__ import annotations

from functools import partial
from typing import Any

import attrs
import trio
import trio.lowlevel
from flcollector import Duration, Listener, Send
from flcollector.httpserve import serve_asgi
from flcollector.plugins.websocket.hub import Hub

from .app import build_app
from .state import ServerState


@attrs.define
class ServerOptions:
    """Options of the ``[server]`` table."""

    host: str = "127.0.0.1"
    port: int = 8083
    auth_enabled: bool = False  # require HTTP Basic (username/password) or the bearer token; /health stays open
    username: str = "admin"
    password: str = "securepassword"
    token: str | None = None  # bearer token; setting it also turns authentication on
    cors_origins: list[str] = attrs.field(factory=list)
    max_body_bytes: int = attrs.field(default=10 * 1024 * 1024, validator=attrs.validators.gt(0))
    max_limit: int = attrs.field(default=10_000, validator=attrs.validators.gt(0))
    ws_queue_size: int = attrs.field(default=1000, validator=attrs.validators.gt(0))
    ws_keepalive: Duration = Duration(20.0)  # 0 disables keepalive pings
    prometheus_expiry: Duration = Duration(300.0)
    graceful_timeout: Duration = Duration(3.0)


class ServerListener(Listener):
    """REST (spec and FLOPY-NET dashboard), WebSocket ``/ws/metrics``, ingest, Prometheus ``/metrics``, OpenAPI."""

    name = "server"
    Options = ServerOptions

    url: str | None = None  # the bound base URL once listening
    app: Any = None  # the Starlette app once built

    async def run(self, send: Send, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until the agent shuts down (then close WebSockets with 1001 and drain) or until cancelled."""
        agent = self.runtime.agent
        if agent is None:
            raise RuntimeError("the server listener needs the running agent (runtime.agent)")
        options = self.options
        hub = Hub(self.runtime.stats, observe_size=max(16, options.ws_queue_size))
        state = ServerState(agent=agent, options=options, stats=self.runtime.stats, hub=hub)
        app = self.app = build_app(state)
        shutdown = trio.Event()
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(hub.run, agent)

                async def serve(task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
                    await serve_asgi(
                        app,
                        options.host,
                        options.port,
                        shutdown=shutdown,
                        graceful_timeout=float(options.graceful_timeout),
                        task_status=task_status,
                    )
                    nursery.cancel_scope.cancel()  # served out: stop the hub and the watcher too

                self.url = await nursery.start(serve)
                self.runtime.stats.extra["url"] = self.url
                self.runtime.stats.success()
                self.log.info(
                    "serving on %s (API %s/api/v1, WebSocket %s/ws/metrics)",
                    self.url,
                    self.url,
                    self.url.replace("http", "ws", 1),
                )
                task_status.started(self.url)
                nursery.start_soon(partial(_close_when, agent.shutting_down, state, shutdown))
        finally:
            state.closing.set()
            self.runtime.stats.status = "stopped"


async def _close_when(trigger: trio.Event, state: ServerState, shutdown: trio.Event) -> None:
    """At agent shutdown: tell WebSockets to close (1001), then let hypercorn drain and stop."""
    await trigger.wait()
    state.closing.set()
    await trio.lowlevel.checkpoint()  # let the WebSocket senders run their close before hypercorn stops accepting
    shutdown.set()
