"""A real HTTP double of InfluxDB 2's ``POST /api/v2/write`` (Debian has no InfluxDB 2), validating what it gets.

It checks what InfluxDB 2 checks: the token, ``org`` and ``bucket``, ``precision``, a gzip body when announced, and
every line (parsed by the server plugin's line-protocol parser); it answers as InfluxDB 2 does (204, or a JSON
``{"code", "message"}`` with 400/401/404/413). ``max_body`` makes it refuse large bodies with 413.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from flcollector import Metric
from flcollector.plugins.server.lineprotocol import PRECISION_NS, LineProtocolError, parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _error(status: int, code: str, message: str) -> Response:
    return Response(orjson.dumps({"code": code, "message": message}), status_code=status,
                    media_type="application/json")


class InfluxV2Double:
    """Accepts writes for one org/bucket/token; ``points`` holds every accepted point, ``accepted`` the points of
    each accepted request, ``requests`` counts calls."""

    def __init__(self, org: str, bucket: str, token: str, max_body: int = 1 << 30) -> None:
        self.org, self.bucket, self.token, self.max_body = org, bucket, token, max_body
        self.points: list[Metric] = []
        self.accepted: list[int] = []  # points per accepted request
        self.requests = 0
        self.gzipped = 0
        self.app = Starlette(routes=[Route("/api/v2/write", self.write, methods=["POST"]),
                                     Route("/ping", self.ping, methods=["GET"])])

    async def ping(self, request: Request) -> Response:
        """InfluxDB's liveness route."""
        return Response(status_code=204)

    async def write(self, request: Request) -> Response:
        """Validate and store one write request."""
        self.requests += 1
        if request.headers.get("authorization") != f"Token {self.token}":
            return _error(401, "unauthorized", "unauthorized access")
        params: Any = request.query_params
        if params.get("org") != self.org:
            return _error(404, "not found", f'organization name "{params.get("org")}" not found')
        if params.get("bucket") != self.bucket:
            return _error(404, "not found", f'bucket "{params.get("bucket")}" not found')
        precision = params.get("precision", "ns")
        if precision not in ("ns", "us", "ms", "s"):
            return _error(400, "invalid", f"invalid precision {precision!r}")
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            self.gzipped += 1
            try:
                body = zlib.decompress(body, wbits=31)
            except zlib.error as exc:
                return _error(400, "invalid", f"bad gzip body: {exc}")
        if len(body) > self.max_body:
            return _error(413, "request too large", f"body of {len(body)} bytes exceeds {self.max_body}")
        try:
            points = parse(body.decode("utf-8"), precision if precision in PRECISION_NS else "ns")
        except (UnicodeDecodeError, LineProtocolError) as exc:
            return _error(400, "invalid", str(exc))
        self.points.extend(points)
        self.accepted.append(len(points))
        return Response(status_code=204)
