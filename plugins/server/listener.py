"""The ``server`` listener: serves the spec's API, plugins' routes and ``/metrics`` with hypercorn's Trio worker."""

from __future__ import annotations

from typing import Any, Literal

import attrs
import trio
import trio.lowlevel
from flcollector import Duration, Listener, Send
from flcollector.httpserve import serve_asgi

from .app import build_app
from .state import ServerState


@attrs.define
class ServerOptions:
    """Options of the ``[server]`` table."""

    host: str = "127.0.0.1"
    port: int = 8083
    auth_enabled: bool = False  # require HTTP Basic (username/password) or the bearer token; /health stays open
    username: str | None = None  # HTTP Basic works only when both username and password are set; no default
    password: str | None = None
    token: str | None = None  # bearer token; setting it also turns authentication on
    cors_origins: list[str] = attrs.field(factory=list)
    max_body_bytes: int = attrs.field(default=10 * 1024 * 1024, validator=attrs.validators.gt(0))
    max_points: int = attrs.field(default=1_000_000, validator=attrs.validators.gt(0))  # points/records per ingest
    # 2xx from ingest once the store and the archive committed the records ("durable"), or once they are in the
    # pipeline's memory ("accepted": faster; a crash loses what the sinks had not written yet)
    ingest_ack: Literal["durable", "accepted"] = "durable"
    ack_timeout: Duration = Duration(30.0)  # a durable ack not confirmed within this is a 503
    retry_after: Duration = Duration(5.0)  # Retry-After of a 503 when the store cannot write
    max_limit: int = attrs.field(default=10_000, validator=attrs.validators.gt(0))
    prometheus_expiry: Duration = Duration(300.0)
    graceful_timeout: Duration = Duration(3.0)
    stall_timeout: Duration = Duration(10.0)  # a client that accepts no data for this long is disconnected

    def __attrs_post_init__(self) -> None:
        """No default credential may ever grant access: refuse auth without a credential, or half of one."""
        if self.username == "" or self.password == "":
            raise ValueError("'username' and 'password' must not be empty (an empty credential is no credential)")
        if (self.username is None) != (self.password is None):
            given, missing = ("username", "password") if self.password is None else ("password", "username")
            raise ValueError(
                f"'{given}' is set without '{missing}': HTTP Basic needs both (API_USERNAME and API_PASSWORD)"
            )
        if self.auth_enabled and not self.token and self.username is None:
            raise ValueError(
                "'auth_enabled' is true but no credential is configured: set token (API_TOKEN), or username and "
                "password (API_USERNAME and API_PASSWORD); nothing is built in"
            )


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
                if options.ingest_ack == "durable" and agent.durable_sinks == 0:
                    self.log.warning("ingest_ack = \"durable\" but no durable sink (sqlite, jsonl) is configured: "
                                     "ingest acknowledges records once they are accepted in memory")
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
