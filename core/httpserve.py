"""Serve an ASGI app with hypercorn's Trio worker: used by the server plugin and by the emulators.

``bind`` may use port 0; the real bound URL is handed back through ``task_status.started()``, so tests and the
demo learn the port without races.

hypercorn writes to a socket inside a shielded cancel scope, so a client that stops reading (a full TCP window)
holds its connection's task, and with it the server's shutdown, for as long as the kernel keeps the connection:
nothing in the app can cancel that write. ``stall_timeout`` sets ``TCP_USER_TIMEOUT`` on the listening socket
(inherited by every accepted one, Linux): a peer that acknowledges no data for that long is disconnected by the
kernel, the write fails, and the task ends.

One client must never take the server down: hypercorn lets an error of one connection's protocol handling escape
into the task that serves every connection (hypercorn issue #225: a WebSocket upgrade request followed at once by
more bytes makes h11 raise ``LocalProtocolError`` from hypercorn's own cleanup, and the whole server stops). Each
connection runs in :class:`_IsolatedConnection` instead, which logs such an error and ends only that connection.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import run as hypercorn_run
from hypercorn.trio.run import worker_serve
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.utils import wrap_app

log = logging.getLogger("flcollector.http")


class _IsolatedConnection(TCPServer):
    """hypercorn's connection handler, with an error of one connection kept to that connection (see above)."""

    async def run(self) -> None:
        """Serve the connection; a protocol error ends it (logged), never the server."""
        try:
            await super().run()
        except Exception:
            log.warning("a connection failed and was closed; the server goes on", exc_info=True)


# worker_serve builds each connection's handler from this module-level name.
hypercorn_run.TCPServer = _IsolatedConnection  # type: ignore[misc]


def hypercorn_config(host: str, port: int, *, graceful_timeout: float = 3.0) -> HypercornConfig:
    """Return a quiet hypercorn config bound to ``host:port`` (IPv6 hosts are bracketed)."""
    config = HypercornConfig()
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    config.bind = [f"{bind_host}:{port}"]
    config.graceful_timeout = graceful_timeout
    config.accesslog = None
    config.errorlog = logging.getLogger("flcollector.http")
    config.keep_alive_timeout = 75  # the dashboard keeps connections open between polls
    return config


def bound_stalls(sock: socket.socket, stall_timeout: float | None) -> None:
    """Have the kernel drop a connection of ``sock`` whose peer acknowledges no data for ``stall_timeout`` s."""
    option = getattr(socket, "TCP_USER_TIMEOUT", None)  # Linux only; elsewhere a stalled peer is kept
    if stall_timeout and option is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, option, max(1, int(stall_timeout * 1000)))


async def serve_asgi(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    shutdown: trio.Event | None = None,
    graceful_timeout: float = 3.0,
    stall_timeout: float | None = None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until ``shutdown`` is set (or the task is cancelled); report the base URL when listening.

    ``stall_timeout`` (seconds, None: never) disconnects a client that stopped reading; see the module docstring.
    """
    config = hypercorn_config(host, port, graceful_timeout=graceful_timeout)
    trigger = shutdown.wait if shutdown is not None else trio.sleep_forever
    sockets = config.create_sockets()
    for sock in sockets.insecure_sockets:
        bound_stalls(sock, stall_timeout)
        sock.listen(config.backlog)

    class _Status:
        def started(self, value: Any = None) -> None:
            urls = list(value or [])
            task_status.started(urls[0] if urls else f"http://{host}:{port}")

    # hypercorn.trio.serve() without its socket creation, so the listening sockets can be configured first.
    await worker_serve(
        wrap_app(app, config.wsgi_max_body_size, None),
        config,
        sockets=sockets,
        shutdown_trigger=trigger,
        task_status=_Status(),
    )
