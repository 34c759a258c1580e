"""Serve an ASGI app with hypercorn's Trio worker: used by the server plugin and by the emulators.

``bind`` may use port 0; the real bound URL is handed back through ``task_status.started()``, so tests and the
demo learn the port without races.
"""

from __future__ import annotations

import logging
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve


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


async def serve_asgi(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    shutdown: trio.Event | None = None,
    graceful_timeout: float = 3.0,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until ``shutdown`` is set (or the task is cancelled); report the base URL when listening."""
    config = hypercorn_config(host, port, graceful_timeout=graceful_timeout)
    trigger = shutdown.wait if shutdown is not None else trio.sleep_forever


    class _Status:
        def started(self, value: Any = None) -> None:
            urls = list(value or [])
            task_status.started(urls[0] if urls else f"http://{host}:{port}")

    await serve(app, config, shutdown_trigger=trigger, task_status=_Status())
