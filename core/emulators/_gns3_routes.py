"""The GNS3 emulator's routes, v2 (``gns3server/handlers/api/controller/*_handler.py``, aiohttp) and v3
(``gns3server/api/routes/controller/*.py``, FastAPI). What differs between the versions (auth, error bodies,
validation) is in ``_gns3_api.py``; the state and the server's rules live in the emulator (``gns3.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import trio
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ._gns3_api import Api, invalid, is_uuid, ping, token_routes
from ._gns3_model import Project

if TYPE_CHECKING:
    from .gns3 import Gns3Emulator


def _routes(api: Api) -> list[BaseRoute]:
    emu, prefix = api.emu, f"/{api.version}"

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            return api.unauthorized(request) or await handler(request)

        return endpoint

    async def version(request: Request) -> Response:
        """``ServerHandler.version`` (v2, behind auth like every route) / ``controller.get_version`` (v3, open)."""
        if not api.v3 and (denied := api.unauthorized(request)):
            return denied
        body: dict[str, Any] = {"version": emu.version[api.version], "local": not api.v3}
        if api.v3:
            body["controller_host"] = "127.0.0.1"
        return JSONResponse(body)

    async def projects(request: Request) -> Response:
        """``ProjectHandler.list_projects`` / ``projects.get_projects``."""
        return JSONResponse([p.asdict() for p in emu.projects.values()])

    async def project(request: Request) -> Response:
        """``ProjectHandler.get`` / ``projects.get_project``."""
        return api.answer(request, Project.asdict)

    async def open_or_close(request: Request) -> Response:
        """``ProjectHandler.open``/``close`` / ``projects.open_project``/``close_project``."""
        found = api.project(request.path_params["project_id"])
        if isinstance(found, Response):
            return found
        if request.url.path.endswith("/open"):
            emu.open_project(found)
            return JSONResponse(found.asdict(), 201)
        emu.close_project(found)
        return Response(status_code=204)

    async def links(request: Request) -> Response:
        """``LinkHandler.list_links`` / ``links.get_links`` (a closed project: the topology file's links)."""
        return api.answer(request, Project.links_json)

    async def nodes(request: Request) -> Response:
        """``NodeHandler.list_nodes`` / ``nodes.get_nodes`` (a closed project: the topology file's nodes)."""
        return api.answer(request, Project.nodes_json)

    async def link(request: Request) -> Response:
        """``LinkHandler.get_link``/``update`` / ``links.get_link``/``update_link``: filters, style, suspend."""
        found = api.project(request.path_params["project_id"])
        if isinstance(found, Response):
            return found
        link_id = request.path_params["link_id"]
        if api.v3 and not is_uuid(link_id):
            return invalid("path", "link_id", "uuid_parsing", "Input should be a valid UUID", link_id)
        if found.status == "closed":  # Project.get_link is @open_required
            return api.error("The project is not opened", 403)
        target = found.links.get(link_id)
        if target is None:
            return api.error(f"Link ID {link_id} doesn't exist", 404)
        if request.method == "GET":
            return JSONResponse(target.asdict(found.project_id))
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else ({} if not api.v3 else None)
        except ValueError as exc:
            if api.v3:
                return invalid("body", None, "json_invalid", "JSON decode error", str(exc))
            return api.error(f"Invalid JSON {exc}", 400, request, {"malformed_json": raw.decode(errors="replace")})
        problem = api.body_problem(body)
        if isinstance(problem, Response):
            return problem
        if isinstance(problem, str):
            text = f"JSON schema error with API request '{request.url.path}' and JSON data '{body}': {problem}"
            return api.error(text, 400, request, body)
        try:
            emu.update_link(found, target, body or {})
        except (TypeError, ValueError) as exc:  # the server's int() on a filter value: an uncaught exception
            if api.v3:
                return PlainTextResponse("Internal Server Error", 500)
            return api.error(f"Traceback (most recent call last):\n{type(exc).__name__}: {exc}", 500)
        return JSONResponse(target.asdict(found.project_id), 200 if api.v3 else 201)

    async def notifications(websocket: WebSocket) -> None:
        """``ProjectHandler.notification_ws`` / ``projects.project_ws_notifications``: a ping first, then every
        notification of the project (a ping when idle); when the listener leaves, ``auto_close`` may close it."""
        found = emu.projects.get(websocket.path_params["project_id"])
        if found is None or (not api.v3 and api.unauthorized(websocket)) or (
            api.v3 and websocket.query_params.get("token") is None
        ):
            await websocket.close(code=1008)  # refused before the upgrade
            return
        await websocket.accept()
        if api.v3 and websocket.query_params["token"] not in emu.tokens:
            message = "Could not authenticate while connecting to controller WebSocket: Could not validate credentials"
            await websocket.send_text(json.dumps({"action": "log.error", "event": {"message": message}}))
            await websocket.close(code=1008)
            return
        with emu.listening(found) as queue:
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_until_disconnect, websocket, nursery.cancel_scope)
                    await websocket.send_text(ping())
                    while True:
                        notification: str | None = None
                        with trio.move_on_after(emu.ping_interval):
                            notification = await queue.receive()
                        await websocket.send_text(notification or ping())
            except (WebSocketDisconnect, OSError, RuntimeError):
                pass  # the listener went away mid-send
        await emu.after_listener_left(found)

    base = f"{prefix}/projects/{{project_id}}"
    return [
        Route(f"{prefix}/version", version),
        Route(f"{prefix}/projects", guarded(projects)),
        Route(base, guarded(project)),
        Route(f"{base}/open", guarded(open_or_close), methods=["POST"]),
        Route(f"{base}/close", guarded(open_or_close), methods=["POST"]),
        Route(f"{base}/links", guarded(links)),
        Route(f"{base}/links/{{link_id}}", guarded(link), methods=["GET", "PUT"]),
        Route(f"{base}/nodes", guarded(nodes)),
        WebSocketRoute(f"{base}/notifications/ws", notifications),
    ]


async def _until_disconnect(websocket: WebSocket, scope: trio.CancelScope) -> None:
    """Read until the client leaves (the route only pushes), then stop the sender."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
    scope.cancel()


def gns3_routes(emu: Gns3Emulator) -> list[BaseRoute]:
    """Both API versions, plus v3's token routes (``users.authenticate`` JSON, ``users.login`` form)."""

    return [*_routes(Api(emu, "v2")), *_routes(Api(emu, "v3")), *token_routes(emu)]
