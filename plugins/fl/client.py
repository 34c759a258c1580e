"""HTTP access to the FL server's metrics API: one GET, classified into data, a bad answer, or an outage.

A transport failure or timeout means the source is down (the monitor raises ``SourceUnavailable`` for the whole
collection). A 4xx/5xx or a body that is not the expected JSON object only spoils that one endpoint: the monitor
keeps the other endpoints' data and reports the bad one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import httpx
import orjson


@attrs.frozen
class Answer:
    """The outcome of one GET: ``data`` on success, else ``problem`` (``"malformed"``, ``"http"``, ``"down"``)."""

    endpoint: str
    data: dict[str, Any] | None = None
    problem: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when the endpoint answered a JSON object."""
        return self.problem is None


class FlApi:
    """Thin wrapper over one ``httpx.AsyncClient`` pointed at the FL server."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Answer:
        """GET ``endpoint`` and classify the result; never raises for HTTP-level problems."""
        try:
            response = await self.client.get(endpoint, params=dict(params or {}))
        except httpx.TransportError as exc:  # refused, reset, timed out: the server is down or unreachable
            return Answer(endpoint, problem="down", reason=f"{type(exc).__name__}: {exc}".rstrip(": "))
        if response.status_code >= 500:
            return Answer(endpoint, problem="http", reason=f"HTTP {response.status_code}")
        if response.status_code >= 400:
            return Answer(endpoint, problem="http", reason=f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            return Answer(endpoint, problem="malformed", reason=f"not JSON ({exc})")
        if not isinstance(data, dict):
            return Answer(endpoint, problem="malformed", reason=f"expected a JSON object, got {type(data).__name__}")
        return Answer(endpoint, data=data)
