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

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: An exception handler of an HTTP request: ``(request, exc) -> Response``, a coroutine function or not.
HttpHandler = Callable[[Request, Exception], Any]


async def plain_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's answer to an ``HTTPException`` no handler was given for (``ExceptionMiddleware``'s)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


class ErrorAnswers:
    """Answer an exception of an HTTP request with the app's handler for it (the nearest class in its MRO).

    Starlette's ``ExceptionMiddleware`` and ``ServerErrorMiddleware`` in one layer: a handler registered for
    ``Exception`` (or 500) answers everything else; an ``HTTPException`` without a handler gets Starlette's plain
    answer. An exception after the answer started cannot be answered: it propagates, and the server closes that
    connection. Routes that wrap their own endpoint (``request_response``) find the same handlers in the scope, as
    under Starlette's stack. An error in the middleware outside this layer (a bug) is answered by hypercorn's 500.
    """

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, Callable[..., Any]]) -> None:
        self.app = app
        by_class: dict[Any, HttpHandler] = {HTTPException: plain_http_error}
        by_class.update((key, handler) for key, handler in handlers.items() if not isinstance(key, int))
        by_status: dict[int, HttpHandler] = {key: h for key, h in handlers.items() if isinstance(key, int)}
        if 500 in by_status:
            by_class.setdefault(Exception, by_status.pop(500))
        self.by_class, self.by_status = by_class, by_status
        # What request_response's own wrapper catches: as under Starlette, not the catch-all (that is this layer's).
        self.scoped = ({key: h for key, h in by_class.items() if key is not Exception}, by_status)

    def handler_for(self, exc: Exception) -> HttpHandler | None:
        """The handler of ``exc``: by status for an ``HTTPException`` that has one, else by class."""
        if isinstance(exc, HTTPException) and exc.status_code in self.by_status:
            return self.by_status[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in self.by_class:
                return self.by_class[cls]
        return None

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
