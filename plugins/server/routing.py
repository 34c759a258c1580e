"""The server's router: Starlette's, with each plain path found in a dict instead of by trying every route in turn.

Starlette's router tries its routes in order, a regular expression each: a dashboard route, after the spec API's
routes, was found after 30-50 tries (about 20 µs of a request that is otherwise 40). A route whose path has no
parameters is looked up by path first; the answer is the same as the scan's, because a path is only indexed when
no route before it (one with parameters, a mount) could match it, and anything else than a full match (another
method, a path with parameters, a redirect) still goes through the scan.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path  # the path the scan matches (root_path removed), as Route.matches does
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send


def _may_match(route: BaseRoute, path: str) -> bool:
    """Whether ``route`` (one with path parameters, or a mount) could match the plain ``path``."""
    if (isinstance(route, Route) and route.param_convertors) or isinstance(route, Mount):
        return route.path_regex.match(path) is not None
    return False


class IndexedRouter(Router):
    """A :class:`~starlette.routing.Router` that finds a route with a plain path by that path, then scans."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        super().__init__(list(routes))
        self.plain: dict[str, Route] = {}
        for i, route in enumerate(self.routes):
            if not isinstance(route, Route) or route.param_convertors or route.path in self.plain:
                continue
            if not any(_may_match(earlier, route.path) for earlier in self.routes[:i]):
                self.plain[route.path] = route

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a plain path's route when it fully matches; anything else as Starlette's router does."""
        if scope["type"] == "http":
            route = self.plain.get(get_route_path(scope))
            if route is not None:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
