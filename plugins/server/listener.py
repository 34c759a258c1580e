"""The ``server`` listener: serves the spec's API, plugins' routes and ``/metrics`` with hypercorn's Trio worker."""

from __future__ import annotations

from typing import Any, Literal

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
        "tells only its `status` without credentials. On, it needs a credential: without one the agent refuses to "
        "start (exit 2); no login is built in"))
    username: str | None = attrs.field(default=None, metadata=option_doc(
        "HTTP Basic user; Basic works only when both `username` and `password` are set (one without the other, or "
        "an empty one, is a config error). The FLOPY-NET dashboard always sends the login "
        "`admin:securepassword`: to let it in, configure exactly that user and password, knowingly",
        default="none", example="researcher"))
    password: str | None = attrs.field(default=None, metadata=option_doc(
        "HTTP Basic password", default="none", example="change-me"))
    token: str | None = attrs.field(default=None, metadata=option_doc(
        "bearer token. Setting it also turns auth on. Accepted as `Authorization: Bearer <token>`, or as `?token=` "
        "on WebSockets, because browsers cannot set headers there", default="none", example="change-me"))
    cors_origins: list[str] = attrs.field(factory=list, metadata=option_doc(
        'origins allowed by CORS, e.g. `["http://localhost:8085"]`; none by default'))
    max_body_bytes: int = attrs.field(default=10 * 1024 * 1024, validator=attrs.validators.gt(0), metadata=option_doc(
        "larger ingest bodies get 413. The limit also applies after gunzip"))
    max_points: int = attrs.field(default=1_000_000, validator=attrs.validators.gt(0), metadata=option_doc(
        "ingest requests with more points (line protocol) or records (JSON) get 413, before anything is accepted"))
    ingest_ack: Literal["durable", "accepted"] = attrs.field(default="durable", metadata=option_doc(
        'what an ingest 2xx means: `"durable"`, every durable sink (the store, the archive) committed the records, so '
        'a crash, even `kill -9`, loses nothing acknowledged; `"accepted"`, the records are in the pipeline\'s memory '
        "(faster; a crash loses what the sinks had not written yet, about a `flush_interval` of records)"))
    ack_timeout: Duration = attrs.field(default=Duration(30.0), metadata=option_doc(
        "a durable acknowledgement not confirmed within this is a 503 (the records may still be written)"))
    retry_after: Duration = attrs.field(default=Duration(5.0), metadata=option_doc(
        "while a durable sink cannot write, ingest answers 503 with this `Retry-After`; after it, a request may "
        "probe again"))
    max_limit: int = attrs.field(default=10_000, validator=attrs.validators.gt(0), metadata=option_doc(
        "the largest `limit=` a query accepts; more is a 400"))
    prometheus_expiry: Duration = attrs.field(default=Duration(300.0), metadata=option_doc(
        "a series not updated for this long leaves `/metrics`, for example the metrics of a client that left"))
    graceful_timeout: Duration = attrs.field(default=Duration(3.0), metadata=option_doc(
        "how long open connections get to finish at shutdown (an accepted ingest request is answered regardless)"))
    stall_timeout: Duration = attrs.field(default=Duration(10.0), metadata=option_doc(
        "a client that accepts no data for this long is disconnected by the kernel (`TCP_USER_TIMEOUT`, Linux). "
        "hypercorn cannot interrupt a write to a client that stopped reading; without this, such a client would "
        "hold its connection, and the agent's shutdown, for as long as it lives"))

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
