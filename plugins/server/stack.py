"""The request path of an HTTP request: one layer per concern, so a cheap route costs little more than hypercorn.

Starlette's application puts five layers around every request: ``ServerErrorMiddleware``, the configured
middleware, ``ExceptionMiddleware``, the router, and ``request_response`` around the endpoint. Three of them wrap
``send`` and two build a ``Request`` and catch exceptions, with the same handlers. Over the wire (hypercorn, wrk
with 50 connections, BENCHMARKS.md) a Starlette app answering a constant serves 0.91 of a bare ASGI app's
requests; the same endpoint called directly, 0.98. :class:`ServerApp` keeps Starlette's routes, requests,
responses and handlers, and runs an HTTP request through: the configured middleware (request counting, CORS, auth),
:class:`ErrorAnswers` (one ``try`` around the route, the app's handlers, one ``send`` wrapper) and the router, which
calls the endpoint of a plain path itself (see :mod:`.routing`). WebSocket connections and the lifespan go through
Starlette's own stack, unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from starlette._exception_handler import _lookup_exception_handler  # the MRO lookup Starlette's layers use
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: An exception handler, called ``(request, exc)`` here; a coroutine function or not. Starlette types its tables
#: for WebSocket handlers too, which an HTTP request never reaches.
Handler = Callable[..., Any]


class ErrorAnswers(ExceptionMiddleware):
    """Answer an exception of an HTTP request with the app's handler for it (the nearest class in its MRO).

    Starlette's ``ExceptionMiddleware`` (whose handler tables this is built on: an ``HTTPException`` without a
    handler gets its plain answer) and ``ServerErrorMiddleware`` in one layer: a handler registered for
    ``Exception`` (or 500) answers everything else. An exception after the answer started cannot be answered: it
    propagates, and the server closes that connection. Routes that wrap their own endpoint (``request_response``)
    find the same tables in the scope, as under Starlette's stack. An error in the middleware outside this layer (a
    bug) is answered by hypercorn's 500.
    """

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, Callable[..., Any]]) -> None:
        # As Starlette splits them: the catch-all is the outer layer's, the rest ExceptionMiddleware's.
        super().__init__(app, {key: h for key, h in handlers.items() if key not in (500, Exception)})
        self.catch_all: Handler | None = handlers.get(Exception, handlers.get(500))
        self.scoped = (self._exception_handlers, self._status_handlers)

    def handler_for(self, exc: Exception) -> Handler | None:
        """The handler of ``exc``: by status for an ``HTTPException`` that has one, else by class, else the
        catch-all."""
        if isinstance(exc, HTTPException) and exc.status_code in self._status_handlers:
            return self._status_handlers[exc.status_code]
        return _lookup_exception_handler(self._exception_handlers, exc) or self.catch_all

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the route; answer its exception unless the answer already started."""
        scope["starlette.exception_handlers"] = self.scoped
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sender)
        except Exception as exc:
            handler = self.handler_for(exc)
            if handler is None or started:
                raise
            answer = handler(Request(scope, receive), exc)
            if inspect.isawaitable(answer):
                answer = await answer
            if isinstance(answer, Response):
                await answer(scope, receive, sender)
            exc.__traceback__ = None  # a reused exception instance would keep every request's frames


class ServerApp(Starlette):
    """A Starlette app whose HTTP requests take the short path above; everything else is Starlette's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_stack: ASGIApp | None = None

    def build_http_stack(self) -> ASGIApp:
        """The configured middleware around :class:`ErrorAnswers` around the router."""
        app: ASGIApp = ErrorAnswers(self.router, self.exception_handlers)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve an HTTP request through the short stack, anything else through Starlette's."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        if self.http_stack is None:
            self.http_stack = self.build_http_stack()
        await self.http_stack(scope, receive, send)
