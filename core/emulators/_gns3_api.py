"""What differs between the GNS3 emulator's v2 and v3 routes: auth, error bodies, request validation, and v3's
token routes (``gns3server/web/route.py`` for v2, ``gns3server/api/server.py`` and ``routes/controller/users.py``
for v3).

v2 errors are ``{"message", "status"}`` (a 400 adds ``path``, ``request``, ``method``); v3 errors are
``{"message"}``, request validation ``422 {"detail": [...]}``, an uncaught exception a plain-text 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psutil
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._gns3_model import Project

if TYPE_CHECKING:
    from .gns3 import Gns3Emulator

#: Keys ``LINK_OBJECT_SCHEMA`` (v2.2) accepts; anything else is a 400 (``additionalProperties: False``).
V2_LINK_KEYS = frozenset({"link_id", "project_id", "nodes", "capturing", "capture_file_name", "capture_file_path",
                          "capture_compute_id", "link_type", "filters", "suspend", "link_style"})
_TRUE, _FALSE = ("true", "1", "yes", "on", "t", "y"), ("false", "0", "no", "off", "f", "n")


class Api:
    """What differs between v2 and v3: auth, error bodies, validation, the PUT's status."""

    def __init__(self, emu: Gns3Emulator, version: str) -> None:
        self.emu, self.version, self.v3 = emu, version, version == "v3"

    def error(self, message: str, status: int, request: Request | None = None, sent: Any = None) -> Response:
        if not self.v3:
            body: dict[str, Any] = {"message": message, "status": status}
            if status == 400 and request is not None:
                body.update(path=request.url.path, request=sent, method=request.method)
            return JSONResponse(body, status)
        return JSONResponse({"message": message}, status)

    def unauthorized(self, conn: HTTPConnection) -> Response | None:
        """``Route.authenticate`` (v2, HTTP Basic when enabled) / ``get_user_from_token`` (v3, bearer or ?token=)."""
        header = conn.headers.get("authorization", "")
        if not self.v3:
            return None if not self.emu.v2_auth or _basic(header) == self.emu.credentials else Response(
                status_code=401, headers={"WWW-Authenticate": 'Basic realm="GNS3 server"'})
        token = header[7:] if header.lower().startswith("bearer ") else conn.query_params.get("token")
        if token is None:
            message = "Not authenticated"
        elif token not in self.emu.tokens:
            message = "Could not validate credentials"
        else:
            return None
        return JSONResponse({"message": message}, 401, headers={"WWW-Authenticate": "Bearer"})

    def project(self, project_id: str) -> Project | Response:
        """``Controller.get_project``: the project, else 404 (v3 first checks the path is a UUID)."""
        if self.v3 and not is_uuid(project_id):
            return invalid("path", "project_id", "uuid_parsing", "Input should be a valid UUID", project_id)
        found = self.emu.projects.get(project_id)
        return found if found is not None else self.error(f"Project ID {project_id} doesn't exist", 404)

    def answer(self, request: Request, render: Callable[[Project], Any]) -> Response:
        """``render`` the path's project as JSON, or the error finding it gave."""
        found = self.project(request.path_params["project_id"])
        return found if isinstance(found, Response) else JSONResponse(render(found))

    def body_problem(self, body: Any) -> Response | str | None:
        """v2: ``LINK_OBJECT_SCHEMA`` (strict types, no unknown keys); v3: ``LinkUpdate`` (lax bool, extras ignored)."""
        if not self.v3:
            unknown = sorted(set(body) - V2_LINK_KEYS) if isinstance(body, dict) else []
            if not isinstance(body, dict):
                return None if body is None else self._schema(f"{body!r} is not of type 'object'")
            if unknown:
                return self._schema(f"Additional properties are not allowed ({unknown[0]!r} was unexpected)")
            if "filters" in body and not isinstance(body["filters"], dict):
                return self._schema(f"{body['filters']!r} is not of type 'object'")
            if "suspend" in body and not isinstance(body["suspend"], bool):
                return self._schema(f"{body['suspend']!r} is not of type 'boolean'")
            return None
        if not isinstance(body, dict):
            return invalid("body", None, "model_attributes_type", "Input should be a valid dictionary", body)
        if body.get("filters") is not None and not isinstance(body["filters"], dict):
            return invalid("body", "filters", "dict_type", "Input should be a valid dictionary", body["filters"])
        suspend = body.get("suspend")
        if suspend is not None and not isinstance(suspend, bool):
            if str(suspend).lower() not in (*_TRUE, *_FALSE):
                return invalid("body", "suspend", "bool_parsing", "Input should be a valid boolean", suspend)
            body["suspend"] = str(suspend).lower() in _TRUE
        return None

    @staticmethod
    def _schema(problem: str) -> str:
        """A v2 schema problem; the caller makes it a 400 naming the request."""
        return problem


def _basic(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def invalid(where: str, field: str | None, kind: str, message: str, value: Any) -> JSONResponse:
    """FastAPI's request validation answer."""
    loc = [where, field] if field else [where]
    return JSONResponse({"detail": [{"type": kind, "loc": loc, "msg": message, "input": value}]}, 422)


def ping() -> str:
    """``NotificationQueue._getPing``: the message sent first and whenever nothing happened for a while."""
    event = {"cpu_usage_percent": psutil.cpu_percent(interval=None),
             "memory_usage_percent": psutil.virtual_memory().percent}
    return json.dumps({"action": "ping", "event": event}, sort_keys=True)


def token_routes(emu: Gns3Emulator) -> list[BaseRoute]:
    """v3's ``/access/users/authenticate`` (JSON) and ``/access/users/login`` (form): a bearer token."""

    async def authenticate(request: Request) -> Response:
        """``users.authenticate`` / ``users.login``: a bearer token for the configured user."""
        raw = await request.body()
        if request.url.path.endswith("/login"):  # x-www-form-urlencoded
            form = urllib.parse.parse_qs(raw.decode(errors="replace"))
            given = (form.get("username", [""])[0], form.get("password", [""])[0])
        else:
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return invalid("body", None, "json_invalid", "JSON decode error", None)
            body = body if isinstance(body, dict) else {}
            given = (str(body.get("username", "")), str(body.get("password", "")))
        if given != emu.credentials:
            unsuccessful = {"message": "Authentication was unsuccessful."}
            return JSONResponse(unsuccessful, 401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse({"access_token": emu.issue_token(), "token_type": "bearer"})

    return [
        Route("/v3/access/users/authenticate", authenticate, methods=["POST"]),
        Route("/v3/access/users/login", authenticate, methods=["POST"]),
    ]
