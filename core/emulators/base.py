"""What every emulator shares: fault injection and a server that can go down and come back on the same port.

Fault modes (``Emulator.fault``):

- ``None``: normal answers.
- ``"slow"``: every answer is delayed by ``slow_delay`` seconds.
- ``"error"``: every request gets HTTP 500.
- ``"malformed"``: every answer is a 200 with a body that is not JSON.
- ``"down"``: the server stops listening (connections are refused) until the fault is cleared.

Source-specific faults (cursor reset, restart with a fresh event buffer) live in each emulator's own state.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Literal

import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ..httpserve import serve_asgi

Fault = Literal["slow", "error", "malformed", "down"] | None
log = logging.getLogger("flcollector.emulators")


class _FaultMiddleware:
    """ASGI middleware applying the emulator's current HTTP-level fault to every request."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.emulator.requests += 1
        fault = self.emulator.fault
        if fault == "slow":
            await trio.sleep(self.emulator.slow_delay)
        elif fault == "error":
            await JSONResponse({"error": "injected failure"}, status_code=500)(scope, receive, send)
            return
        elif fault == "malformed":
            await Response(b'{"truncated": [1, 2', media_type="application/json")(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Emulator:
    """Base class: subclasses implement :meth:`routes` and their scripted state; this class serves them."""

    #: Human name used in logs, e.g. "fl-server".
    label = "emulator"

    def __init__(self) -> None:
        self.fault: Fault = None
        self.slow_delay = 0.5
        self.requests = 0
        self.url: str | None = None
        self._fault_changed = trio.Event()
        self._listening = trio.Event()
        self._stopped = trio.Event()

    async def wait_stopped(self) -> None:
        """Return once the server stopped listening after the ``"down"`` fault was set."""
        await self._stopped.wait()

    async def wait_listening(self) -> None:
        """Return once the server listens (again): after :meth:`serve` started, or after ``"down"`` was cleared."""
        await self._listening.wait()

    def routes(self) -> list[BaseRoute]:
        """Return the Starlette routes of this source's API."""
        raise NotImplementedError

    def app(self) -> ASGIApp:
        """Return the ASGI app: the routes wrapped in fault injection."""
        return _FaultMiddleware(Starlette(routes=self.routes()), self)

    def set_fault(self, fault: Fault, slow_delay: float | None = None) -> None:
        """Switch the fault mode (``None`` clears it); ``"down"`` closes the listener until cleared."""
        self.fault = fault
        if slow_delay is not None:
            self.slow_delay = slow_delay
        self._fault_changed.set()
        self._fault_changed = trio.Event()

    async def step(self) -> None:
        """Advance the scripted scenario by one tick (subclasses override)."""

    async def run_script(self, tick: float) -> None:
        """Call :meth:`step` every ``tick`` seconds until cancelled (used by the demo)."""
        while True:
            await trio.sleep(tick)
            await self.step()

    async def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; report the base URL. While the fault is ``"down"`` nothing listens on the port."""
        app = self.app()
        started = False
        while True:
            if self.fault == "down":
                await self._fault_changed.wait()
                continue
            stop = trio.Event()
            async with trio.open_nursery() as nursery:
                url: str = await nursery.start(
                    functools.partial(serve_asgi, app, host, port, shutdown=stop, graceful_timeout=0.1)
                )
                if not started:
                    # keep the same port when coming back up after "down"
                    port = int(url.rsplit(":", 1)[1])
                    self.url = url
                    task_status.started(url)
                    started = True
                self._listening.set()
                self._stopped = trio.Event()
                while self.fault != "down":
                    await self._fault_changed.wait()
                self._listening = trio.Event()
                stop.set()
            self._stopped.set()
            log.info("%s is down (fault injected)", self.label)


def json_error(message: str, status: int = 400) -> JSONResponse:
    """Return a JSON error body, as the real sources do."""
    return JSONResponse({"error": message}, status_code=status)


async def read_json(request: Request) -> Any:
    """Return the request's JSON body, or None when it has none."""
    body = await request.body()
    if not body:
        return None
    import orjson

    return orjson.loads(body)
