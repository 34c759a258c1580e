"""The GNS3 controller's REST API as the monitor uses it: which version (v2, or v3 with a bearer token), which
project, and the three reads of a poll (the project, its links, its nodes).

v2 (GNS3 2.x) is open unless the server has ``auth = True`` (HTTP Basic). v3 (GNS3 3.x) wants a bearer token on
every route but ``/v3/version``: a configured ``token``, or one from ``POST /v3/access/users/authenticate`` with
``username``/``password`` (taken again once when the server stops accepting it). A refused token, a server that
does not answer, or a project that does not exist is :class:`~flcollector.SourceUnavailable` (the core backs off
and reports it once); the project may appear later (a scenario script creates it).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx
from flcollector import NOT_FOUND, EndpointError, HttpClient, MalformedResponse, SourceUnavailable, get_json


class Gns3Api:
    """One GNS3 server and the project followed on it."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self.client: httpx.AsyncClient | None = None
        self.api: str | None = None if options.api == "auto" else options.api
        self.server_version = ""
        self.token: str | None = options.token or None
        self.project_id: str | None = options.project_id or None

    async def open(self) -> None:
        """Create the HTTP client (the core's ``timeout`` bounds each poll; this bounds each request)."""
        self.client = HttpClient(base_url=self.options.url.rstrip("/"), timeout=10.0)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self.client is not None:
            await self.client.aclose()

    @property
    def can_login(self) -> bool:
        return bool(self.options.username)

    def _authorize(self) -> None:
        assert self.client is not None
        if self.api == "v3" and self.token:
            self.client.headers["Authorization"] = f"Bearer {self.token}"
        elif self.api != "v3" and self.can_login:
            pair = f"{self.options.username}:{self.options.password}".encode()
            self.client.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()

    async def prepare(self) -> None:
        """Find the API version (``/v2/version``, else ``/v3/version``) and, for v3, a token."""
        if self.client is None:
            await self.open()
        assert self.client is not None
        if not self.server_version:
            self._authorize()  # v2 with auth wants it already on /version
            if self.api is None:
                body = await get_json(self.client, "/v2/version", main=True, allow_404=True)
                self.api = "v2" if body is not NOT_FOUND else "v3"
                if body is NOT_FOUND:
                    body = await get_json(self.client, "/v3/version", main=True)
            else:
                body = await get_json(self.client, f"/{self.api}/version", main=True)
            if not isinstance(body, Mapping) or not isinstance(body.get("version"), str):
                raise MalformedResponse(f"/{self.api}/version: expected an object with a version")
            self.server_version = body["version"]
        if self.api == "v3" and not self.token:
            await self.login()
        self._authorize()

    async def login(self) -> None:
        """Take a v3 token with the configured user (``users.authenticate``)."""
        assert self.client is not None
        if not self.can_login:
            raise SourceUnavailable("GNS3 v3 needs a token or a username and password (options token / username)")
        credentials = {"username": self.options.username, "password": self.options.password}
        try:
            response = await self.client.post("/v3/access/users/authenticate", json=credentials)
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"/v3/access/users/authenticate: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise SourceUnavailable(f"/v3/access/users/authenticate: HTTP {response.status_code} (user refused?)")
        try:
            self.token = str(response.json()["access_token"])
        except (ValueError, KeyError, TypeError):
            raise MalformedResponse("/v3/access/users/authenticate: no access_token in the answer") from None

    async def get(self, path: str, *, main: bool = False, allow_404: bool = False) -> Any:
        """GET ``/{api}{path}``; on v3 a refused token is replaced once when a user is configured."""
        assert self.client is not None
        try:
            return await get_json(self.client, f"/{self.api}{path}", main=main, allow_404=allow_404)
        except SourceUnavailable as exc:
            if self.api != "v3" or not self.can_login or "HTTP 401" not in str(exc):
                raise
        self.token = None
        await self.login()
        self._authorize()
        return await get_json(self.client, f"/{self.api}{path}", main=main, allow_404=allow_404)

    async def project(self) -> Mapping[str, Any]:
        """The followed project's object (``GET /projects/{id}``), choosing the project on first use."""
        if self.project_id is None:
            projects = await self.get("/projects", main=True)
            if not isinstance(projects, list) or not all(isinstance(p, Mapping) for p in projects):
                raise EndpointError(f"/{self.api}/projects", "expected a list of project objects")
            self.project_id = str(choose_project(projects, self.options.project_name)["project_id"])
        body = await self.get(f"/projects/{self.project_id}", main=True, allow_404=True)
        if body is NOT_FOUND:
            missing = self.project_id
            if not self.options.project_id:
                self.project_id = None  # chosen by name: look for it again next time
            raise SourceUnavailable(f"project {missing} not found on the GNS3 server")
        if not isinstance(body, Mapping) or not isinstance(body.get("status"), str):
            raise EndpointError(f"/{self.api}/projects/{self.project_id}", "expected a project object with a status")
        return body

    def stream_target(self) -> tuple[str, list[tuple[bytes, bytes]]]:
        """The project's notification WebSocket URL and headers (v3 takes the token as ``?token=``)."""
        assert self.client is not None
        base = str(self.client.base_url).rstrip("/").replace("http", "ws", 1)
        url = f"{base}/{self.api}/projects/{self.project_id}/notifications/ws"
        if self.api == "v3":
            return f"{url}?token={self.token}", []
        header = self.client.headers.get("Authorization")
        return url, [(b"authorization", header.encode())] if header else []


def choose_project(projects: list[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    """The project called ``name`` (an opened one first), or with no name the only opened project."""
    names = sorted(str(p.get("name")) for p in projects)
    if name:
        matches = sorted((p for p in projects if p.get("name") == name), key=lambda p: p.get("status") != "opened")
        if not matches:
            raise SourceUnavailable(f"no GNS3 project named {name!r} (projects: {', '.join(names) or 'none'})")
        return matches[0]
    opened = [p for p in projects if p.get("status") == "opened"]
    if len(opened) != 1:
        raise SourceUnavailable(
            f"{len(opened)} opened GNS3 projects ({', '.join(names) or 'none'}): set project_id or project_name"
        )
    return opened[0]
