"""Push inputs: ``POST /api/v1/ingest`` (JSON records) and InfluxDB line protocol on ``/write`` and ``/api/v2/write``.

A request is validated whole before anything is sent on, so a 400 means nothing from it was accepted. Records go
through ``agent.send()``, which stamps the run context and assigns event ids, exactly like monitored records.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from flcollector import Record, record_from_dict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..jsonio import JSONResponse, error_response
from ..lineprotocol import PRECISION_NS, LineProtocolError, parse
from ..params import ParamError, parse_time
from ..state import state_of

MAX_ERRORS = 20  # errors listed per rejected request; enough to fix a batch without flooding the client


class BodyTooLarge(Exception):
    """The request body exceeds ``max_body_bytes``; answered with 413."""


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body (gunzipping ``Content-Encoding: gzip``), refusing more than ``limit`` bytes either way."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise ParamError("body", f"bad gzip data: {exc}") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise BodyTooLarge
    return body


def _record(kind: str, index: int, item: Any, errors: list[dict[str, Any]]) -> Record | None:
    where = f"{kind}s[{index}]"
    if not isinstance(item, dict):
        errors.append({"index": where, "message": "expected a JSON object"})
        return None
    data = {k: v for k, v in item.items() if k not in ("timestamp", "id")}
    data["kind"] = kind
    if "time_ns" not in data and item.get("timestamp") is not None:
        try:
            data["time_ns"] = parse_time(f"{where}.timestamp", str(item["timestamp"]))
        except ParamError as exc:
            errors.append({"index": where, "message": str(exc)})
            return None
    try:
        return record_from_dict(data)
    except ValueError as exc:
        errors.append({"index": where, "message": str(exc)})
        return None


async def ingest_json(request: Request) -> Response:
    """Accept ``{"metrics": [...], "events": [...]}`` in the record dict shape; all or nothing."""
    server = state_of(request)
    body = await read_body(request, server.options.max_body_bytes)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return error_response(400, f"body is not JSON: {exc}")
    if not isinstance(document, dict) or not set(document) <= {"metrics", "events"}:
        return error_response(400, "expected a JSON object with 'metrics' and/or 'events' lists")
    records: list[Record] = []
    errors: list[dict[str, Any]] = []
    for kind in ("metric", "event"):
        items = document.get(f"{kind}s", [])
        if not isinstance(items, list):
            errors.append({"index": f"{kind}s", "message": "expected a list"})
            continue
        for index, item in enumerate(items):
            record = _record(kind, index, item, errors)
            if record is not None:
                records.append(record)
    if errors:
        first = errors[0]
        return error_response(
            400,
            f"{first['index']}: {first['message']} (nothing was accepted)",
            errors=errors[:MAX_ERRORS],
            error_count=len(errors),
        )
    await server.agent.send(records)
    server.stats.count("records_in", len(records))
    metrics = sum(1 for r in records if r.kind == "metric")
    return JSONResponse({"accepted": {"metrics": metrics, "events": len(records) - metrics}})


async def write_lines(request: Request) -> Response:
    """Accept InfluxDB line protocol (v1 ``/write`` or v2 ``/api/v2/write``); 204 when every line was valid."""
    server = state_of(request)
    precision = request.query_params.get("precision") or "ns"
    if precision not in PRECISION_NS:
        raise ParamError("precision", f"expected one of {', '.join(PRECISION_NS)}, got {precision!r}")
    body = await read_body(request, server.options.max_body_bytes)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return error_response(400, f"body is not UTF-8: {exc}")
    try:
        metrics = parse(text, precision)
    except LineProtocolError as exc:
        return error_response(400, f"{exc} (nothing was accepted)", line=exc.line)
    if metrics:
        await server.agent.send(metrics)
        server.stats.count("records_in", len(metrics))
    return Response(status_code=204)


ROUTES = [
    Route("/api/v1/ingest", ingest_json, methods=["POST"]),
    Route("/write", write_lines, methods=["POST"]),
    Route("/api/v2/write", write_lines, methods=["POST"]),
]
