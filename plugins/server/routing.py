"""The server's router: Starlette's, with each plain path found in a dict instead of by trying every route in turn.

Starlette's router tries its routes in order, a regular expression each: a dashboard route, after the spec API's
routes, was found after 30-50 tries (about 20 µs of a request that is otherwise 40). A route whose path has no
parameters is looked up by path first; the answer is the same as the scan's, because a path is only indexed when
no route before it (one with parameters, a mount) could match it, and anything else than a full match (another
method, a path with parameters, a redirect) still goes through the scan.

A found route whose endpoint is a coroutine function that Starlette wrapped in ``request_response`` and nothing
else (no route middleware, no body limit) is called here, and its response sent: ``request_response`` would only
build the same ``Request`` and catch exceptions with the same handlers as :class:`~.stack.ErrorAnswers`, one layer
up, which answers them (about a tenth of a cheap request over the wire, ``stack``'s docstring).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence

from starlette._utils import get_route_path  # the path the scan matches (root_path removed), as Route.matches does
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router, request_response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


async def _probe(request: Request) -> Response:  # pragma: no cover - never called, only wrapped
    return Response()


#: What Starlette's ``request_response`` wrapper is called: a route whose app has another name wraps more.
_WRAPPER_NAME = request_response(_probe).__qualname__


def direct_endpoint(route: Route) -> Endpoint | None:
    """The endpoint to call in place of ``route.app``, when ``route.app`` is only Starlette's wrapper around it."""
    endpoint = route.endpoint
    if inspect.iscoroutinefunction(endpoint) and getattr(route.app, "__qualname__", None) == _WRAPPER_NAME:
        return endpoint
    return None


def _may_match(route: BaseRoute, path: str) -> bool:
    """Whether ``route`` (one with path parameters, or a mount) could match the plain ``path``."""
    if (isinstance(route, Route) and route.param_convertors) or isinstance(route, Mount):
        return route.path_regex.match(path) is not None
    return False


class IndexedRouter(Router):
    """A :class:`~starlette.routing.Router` that finds a route with a plain path by that path, then scans."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        super().__init__(list(routes))
        self.plain: dict[str, tuple[Route, Endpoint | None]] = {}
        for i, route in enumerate(self.routes):
            if not isinstance(route, Route) or route.param_convertors or route.path in self.plain:
                continue
            if not any(_may_match(earlier, route.path) for earlier in self.routes[:i]):
                self.plain[route.path] = (route, direct_endpoint(route))

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a plain path's route when it fully matches; anything else as Starlette's router does."""
        if scope["type"] == "http":
            found = self.plain.get(get_route_path(scope))
            if found is not None:
                route, endpoint = found
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    if endpoint is None:
                        await route.handle(scope, receive, send)
                    else:
                        response = await endpoint(Request(scope, receive, send))
                        await response(scope, receive, send)
                    return
        await super().app(scope, receive, send)
