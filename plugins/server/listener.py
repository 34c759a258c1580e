"""The ``server`` listener: serves the spec's API, plugins' routes and ``/metrics`` with hypercorn's Trio worker."""

from __future__ import annotations

from typing import Any

import attrs
import trio
import trio.lowlevel
from flcollector import Duration, Listener, Send, option_doc
from flcollector.httpserve import serve_asgi

from .app import build_app
from .state import ServerState


@attrs.define
class ServerOptions:
    """Options of the ``[server]`` table."""

    host: str = attrs.field(default="127.0.0.1", metadata=option_doc(
        'bind address; `"0.0.0.0"` serves other machines (the container does)'))
    port: int = attrs.field(default=8083, metadata=option_doc(
        "bind port; `0` picks a free port, and the log shows the URL"))
    auth_enabled: bool = attrs.field(default=False, metadata=option_doc(
        "require HTTP Basic (`username`/`password`) or the bearer token on every route except `/health`, which then "
        "tells only its `status` without credentials"))
    username: str = attrs.field(default="admin", metadata=option_doc(
        "HTTP Basic user; the FLOPY-NET dashboard always sends `admin:securepassword`"))
    password: str = attrs.field(default="securepassword", metadata=option_doc("HTTP Basic password"))
    token: str | None = attrs.field(default=None, metadata=option_doc(
        "bearer token. Setting it also turns auth on. Accepted as `Authorization: Bearer <token>`, or as `?token=` "
        "on WebSockets, because browsers cannot set headers there", default="none", example="change-me"))
    cors_origins: list[str] = attrs.field(factory=list, metadata=option_doc(
        'origins allowed by CORS, e.g. `["http://localhost:8085"]`; none by default'))
    max_body_bytes: int = attrs.field(default=10 * 1024 * 1024, validator=attrs.validators.gt(0), metadata=option_doc(
        "larger ingest bodies get 413. The limit also applies after gunzip"))
    max_limit: int = attrs.field(default=10_000, validator=attrs.validators.gt(0), metadata=option_doc(
        "the largest `limit=` a query accepts; more is a 400"))
    prometheus_expiry: Duration = attrs.field(default=Duration(300.0), metadata=option_doc(
        "a series not updated for this long leaves `/metrics`, for example the metrics of a client that left"))
    graceful_timeout: Duration = attrs.field(default=Duration(3.0), metadata=option_doc(
        "how long open connections get to finish at shutdown"))
    stall_timeout: Duration = attrs.field(default=Duration(10.0), metadata=option_doc(
        "a client that accepts no data for this long is disconnected by the kernel (`TCP_USER_TIMEOUT`, Linux). "
        "hypercorn cannot interrupt a write to a client that stopped reading; without this, such a client would "
        "hold its connection, and the agent's shutdown, for as long as it lives"))


class ServerListener(Listener):
    """The spec's REST API, ingest, Prometheus ``/metrics``, OpenAPI, and the routes plugins register."""

    name = "server"
    Options = ServerOptions

    url: str | None = None  # the bound base URL once listening
    app: Any = None  # the Starlette app once built

    async def run(self, send: Send, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until the agent shuts down (WebSocket routes close with 1001 then) or until cancelled."""
        agent = self.runtime.agent
        if agent is None:
            raise RuntimeError("the server listener needs the running agent (runtime.agent)")
        options = self.options
        app = self.app = build_app(ServerState(agent=agent, options=options, stats=self.runtime.stats))
        shutdown = trio.Event()
        try:
            async with trio.open_nursery() as nursery:

                async def serve(task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
                    await serve_asgi(
                        app,
                        options.host,
                        options.port,
                        shutdown=shutdown,
                        graceful_timeout=float(options.graceful_timeout),
                        stall_timeout=float(options.stall_timeout),
                        task_status=task_status,
                    )
                    nursery.cancel_scope.cancel()  # served out: stop the watcher too

                self.url = await nursery.start(serve)
                self.runtime.stats.extra["url"] = self.url
                self.runtime.stats.success()
                self.log.info("serving on %s (API %s/api/v1)", self.url, self.url)
                task_status.started(self.url)
                nursery.start_soon(_stop_when, agent.shutting_down, shutdown)
        finally:
            self.runtime.stats.status = "stopped"


async def _stop_when(trigger: trio.Event, shutdown: trio.Event) -> None:
    """At agent shutdown, let hypercorn drain and stop; WebSocket handlers watch the same trigger and close first."""
    await trigger.wait()
    await trio.lowlevel.checkpoint()  # the WebSocket senders run their 1001 close before hypercorn stops accepting
    shutdown.set()
