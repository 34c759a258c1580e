"""Push inputs: ``POST /api/v1/ingest`` (JSON records) and InfluxDB line protocol on ``/write`` and ``/api/v2/write``.

A request is validated whole before anything is sent on, so a 400 means nothing from it was accepted; it names the
line (or the record and field) and the problem, including a value no sink could store (see ``flcollector.limits``).
Records go through ``agent.send()``, which stamps the run context and assigns event ids, exactly like monitored
records; what a 2xx then promises is ``[server] ingest_ack`` (see :mod:`..acceptance`): by default, that the store
and the archive committed them.

Bounded work per request: at most ``max_body_bytes`` (413) and ``max_points`` points (413). A body bigger than
``INLINE_BYTES`` is parsed in a worker thread, so the event loop (``/health``, the other clients) keeps answering; a
line-protocol body of more than ``CHUNK_LINES`` lines is first checked whole, a piece at a time, then parsed again a
piece at a time and each piece sent on before the next is parsed, so memory holds one piece, not the whole body as
records (a 10 MB body is about 1.75 million records, 900 MB as Python objects). A big JSON body cannot be read in
pieces, so at most one is parsed at a time.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
import trio
from flcollector import Record, now_ns, record_from_dict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..acceptance import AnsweredOnceAccepted, Delivery
from ..jsonio import JSONResponse, error_response
from ..lineprotocol import PRECISION_NS, LineProtocolError, chunks, parse
from ..params import ParamError, parse_time
from ..state import state_of

MAX_ERRORS = 20  # errors listed per rejected request; enough to fix a batch without flooding the client
INLINE_BYTES = 64 * 1024  # bodies up to this size are parsed on the event loop (a thread costs more than they do)
CHUNK_LINES = 5_000  # line-protocol lines parsed (and sent on) at a time: about 2.5 MB of records


class BodyTooLarge(Exception):
    """The request body exceeds ``max_body_bytes``; answered with 413."""


class TooManyPoints(Exception):
    """The request holds more than ``max_points`` points or records; answered with 413."""


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body (gunzipping ``Content-Encoding: gzip``), refusing more than ``limit`` bytes either way."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks_read, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks_read.append(chunk)
    body = b"".join(chunks_read)
    del chunks_read
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
    except ValueError as exc:  # names the field: "$.time_ns: must be an integer", "round: -1 is out of range"
        errors.append({"index": where, "message": str(exc)})
        return None


def _records(document: Any, max_points: int) -> tuple[list[Record], list[dict[str, Any]]]:
    """Every record of the document, or the errors (all or nothing); raises TooManyPoints first."""
    if not isinstance(document, dict) or not set(document) <= {"metrics", "events"}:
        return [], [{"index": "body", "message": "expected a JSON object with 'metrics' and/or 'events' lists"}]
    total = sum(len(v) for v in document.values() if isinstance(v, list))
    if total > max_points:
        raise TooManyPoints(f"{total} records in one request; at most max_points ({max_points})")
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
    return records, errors


async def ingest_json(request: Request, delivery: Delivery) -> Response:
    """Accept ``{"metrics": [...], "events": [...]}`` in the record dict shape; all or nothing."""
    server = state_of(request)
    delivery.refuse_if_storage_fails()
    body = await read_body(request, server.options.max_body_bytes)
    try:
        if len(body) <= INLINE_BYTES:
            document = orjson.loads(body)
            records, errors = _records(document, server.options.max_points)
        else:  # one big JSON body at a time: its parsed form is about ten times its size
            async with request.app.state.big_json:
                document = await trio.to_thread.run_sync(orjson.loads, body)
                del body
                records, errors = await trio.to_thread.run_sync(_records, document, server.options.max_points)
                del document
    except orjson.JSONDecodeError as exc:
        return error_response(400, f"body is not JSON: {exc}")
    if errors:
        first = errors[0]
        return error_response(
            400,
            f"{first['index']}: {first['message']} (nothing was accepted)",
            errors=errors[:MAX_ERRORS],
            error_count=len(errors),
        )
    if records:
        await delivery.send(records)
    metrics = sum(1 for r in records if r.kind == "metric")
    return await delivery.answer(JSONResponse({"accepted": {"metrics": metrics, "events": len(records) - metrics}}))


def _check_pieces(text: str, precision: str, default_ns: int, max_points: int) -> int:
    """Parse every piece of ``text`` and forget it: the number of points, or the first bad line's error."""
    points = 0
    for number, piece in chunks(text, CHUNK_LINES):
        points += len(parse(piece, precision, first_line=number, default_ns=default_ns))
        if points > max_points:
            raise TooManyPoints(f"more than max_points ({max_points}) points in one request")
    return points


async def write_lines(request: Request, delivery: Delivery) -> Response:
    """Accept InfluxDB line protocol (v1 ``/write`` or v2 ``/api/v2/write``); 204 when every line was valid."""
    server = state_of(request)
    precision = request.query_params.get("precision") or "ns"
    if precision not in PRECISION_NS:
        raise ParamError("precision", f"expected one of {', '.join(PRECISION_NS)}, got {precision!r}")
    delivery.refuse_if_storage_fails()
    body = await read_body(request, server.options.max_body_bytes)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return error_response(400, f"body is not UTF-8: {exc}")
    del body
    max_points, default_ns = server.options.max_points, now_ns()
    try:
        if len(text) <= INLINE_BYTES:
            metrics = parse(text, precision, default_ns=default_ns)
            if len(metrics) > max_points:
                raise TooManyPoints(f"{len(metrics)} points in one request; at most max_points ({max_points})")
            if metrics:
                await delivery.send(metrics)
        elif text.count("\n") < CHUNK_LINES:
            metrics = await trio.to_thread.run_sync(lambda: parse(text, precision, default_ns=default_ns))
            if len(metrics) > max_points:
                raise TooManyPoints(f"{len(metrics)} points in one request; at most max_points ({max_points})")
            if metrics:
                await delivery.send(metrics)
        else:
            await trio.to_thread.run_sync(_check_pieces, text, precision, default_ns, max_points)
            for number, piece in chunks(text, CHUNK_LINES):
                metrics = await trio.to_thread.run_sync(
                    lambda: parse(piece, precision, first_line=number, default_ns=default_ns)  # noqa: B023
                )
                if metrics:
                    await delivery.send(metrics)
                del metrics
    except LineProtocolError as exc:
        return error_response(400, f"{exc} (nothing was accepted)", line=exc.line)
    return await delivery.answer(Response(status_code=204))


ROUTES = [
    Route("/api/v1/ingest", AnsweredOnceAccepted(ingest_json), methods=["POST"]),
    Route("/write", AnsweredOnceAccepted(write_lines), methods=["POST"]),
    Route("/api/v2/write", AnsweredOnceAccepted(write_lines), methods=["POST"]),
]
