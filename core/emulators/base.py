"""What every emulator shares: fault injection and a server that can go down and come back on the same port.

Fault modes (``Emulator.fault``):

- ``None``: normal answers.
- ``"slow"``: every answer is delayed by ``slow_delay`` seconds.
- ``"error"``: every request gets HTTP 500.
- ``"malformed"``: every answer is a 200 with a body that is not JSON.
- ``"down"``: the server stops listening (connections are refused) until the fault is cleared.

And per path: a path in ``broken_paths`` (:meth:`Emulator.break_path`) answers a 200 whose body is not JSON while
the others answer normally. Every request is counted (``requests``, ``requested`` per path) and fires
``request_seen``. One middleware applies all of this to every emulator; source-specific faults (cursor reset, a
route's own error answer, restart with a fresh event buffer) live in each emulator's own state.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from typing import Literal

import trio
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ..httpserve import serve_asgi

Fault = Literal["slow", "error", "malformed", "down"] | None
log = logging.getLogger("flcollector.emulators")


class _FaultMiddleware:
    """ASGI middleware applying the emulator's current HTTP-level faults to every request (see the module)."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emulator = self.emulator
        emulator.note_request(scope["path"])
        fault = emulator.fault
        if fault == "slow":
            await trio.sleep(emulator.slow_delay)
        elif fault == "error":
            await JSONResponse({"error": "injected failure"}, status_code=500)(scope, receive, send)
            return
        if fault == "malformed" or scope["path"] in emulator.broken_paths:
            # a truncated document for the whole source; a proxy's error page for one broken path
            body = b'{"truncated": [1, 2' if fault == "malformed" else b"<html>502 Bad Gateway</html>"
            await Response(body, media_type="application/json")(scope, receive, send)
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
        self.requested: Counter[str] = Counter()  # requests per path, to see what a client asked for
        self.request_seen = trio.Event()  # set whenever an HTTP request arrives (also one answered by a fault)
        self.broken_paths: set[str] = set()  # paths answering a 200 whose body is not JSON
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

    def inner_app(self) -> ASGIApp:
        """Return the source's own app (its routes; a source with its own 404 answer overrides this)."""
        return Starlette(routes=self.routes())

    def app(self) -> ASGIApp:
        """Return the ASGI app: :meth:`inner_app` wrapped in fault injection."""
        return _FaultMiddleware(self.inner_app(), self)

    def note_request(self, path: str) -> None:
        """Count a request to ``path`` and wake whoever waits on ``request_seen``."""
        self.requests += 1
        self.requested[path] += 1
        self.request_seen.set()
        self.request_seen = trio.Event()

    def break_path(self, path: str, broken: bool = True) -> None:
        """Make ``path`` answer a 200 whose body is not JSON (``broken=False`` mends it)."""
        if broken:
            self.broken_paths.add(path)
        else:
            self.broken_paths.discard(path)

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

