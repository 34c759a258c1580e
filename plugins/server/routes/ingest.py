"""Push inputs: ``POST /api/v1/ingest`` (JSON records) and InfluxDB line protocol on ``/write`` and ``/api/v2/write``.

A request is validated whole before anything is sent on, so a 400 means nothing from it was accepted; it names the
line (or the record and field) and the problem, including a value no sink could store (see ``flcollector.limits``).
Records go through ``agent.send()``, which stamps the run context and assigns event ids, exactly like monitored
records; what a 2xx then promises is ``[server] ingest_ack`` (see :mod:`..acceptance`): by default, that the store
and the archive committed them.

Bounded work per request: at most ``max_body_bytes`` (413) and ``max_points`` points (413). Line protocol is parsed
``PIECE_LINES`` lines at a time, and every other task (``/health``, the other clients) runs between two pieces: a
piece takes a few milliseconds, while a worker thread would hold the GIL against the event loop for as long. A body
of more than ``KEEP_POINTS`` points is checked whole first, then parsed again a piece at a time, each piece sent on
before the next is parsed: memory holds one piece, not the whole body as records (a 10 MB body is up to 1.75 million
records, 900 MB as Python objects). A big JSON body is decoded a list item at a time (:mod:`..jsonpieces`),
``PIECE_ITEMS`` items between two checkpoints. Bodies over ``INLINE_BYTES`` are parsed one at a time until their
records are handed on, so memory holds one big body's records and a turn of the event loop parses one piece.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable
from typing import Any

import orjson
import trio
from flcollector import Metric, Record, now_ns, record_from_dict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..acceptance import AnsweredOnceAccepted, Delivery
from ..jsonio import JSONResponse, error_response
from ..jsonpieces import JsonPiecesError, decode_in_pieces, needs_whole_decode
from ..lineprotocol import PRECISION_NS, LineProtocolError, chunks, parse
from ..params import ParamError, parse_time
from ..state import state_of

MAX_ERRORS = 20  # errors listed per rejected request; enough to fix a batch without flooding the client
PIECE_LINES = 500  # line-protocol lines parsed (and sent on) at a time: a few ms of work, about 250 KB of records
PIECE_ITEMS = 100  # JSON items decoded and made records at a time: 6-9 ms (500 took 30-45 ms: /health waited)
KEEP_POINTS = 20_000  # a body of at most this many points is parsed once; a bigger one twice (checked, then sent)
INLINE_BYTES = 256 * 1024  # a body over this size is big: parsed one at a time (JSON: in pieces)


class BodyTooLarge(Exception):
    """The request body exceeds ``max_body_bytes``; answered with 413."""


class TooManyPoints(Exception):
    """The request holds more than ``max_points`` points or records; answered with 413."""


async def read_body(request: Request, limit: int) -> bytes | bytearray:
    """Read the body (gunzipping ``Content-Encoding: gzip``), refusing more than ``limit`` bytes either way."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    # appended as each chunk arrives: joining a 10 MB body's chunks at the end was one 10 ms step of the event loop
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise BodyTooLarge
        body += chunk
    if request.headers.get("content-encoding", "").lower() != "gzip":
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        inflated = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ParamError("body", f"bad gzip data: {exc}") from None
    if len(inflated) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge
    return inflated


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


def _shape_errors(document: Any) -> list[dict[str, Any]]:
    """The error of a document that is not ``{"metrics": [...], "events": [...]}`` (either key optional)."""
    if not isinstance(document, dict) or not set(document) <= {"metrics", "events"}:
        return [{"index": "body", "message": "expected a JSON object with 'metrics' and/or 'events' lists"}]
    return [
        {"index": key, "message": "expected a list"}
        for key in ("metrics", "events")
        if not isinstance(document.get(key, []), list)
    ]


async def _records(document: Any, max_points: int) -> tuple[list[Record], list[dict[str, Any]]]:
    """Every record of the document, or the errors (all or nothing); raises TooManyPoints first. Built a piece at a
    time, the other tasks running in between."""
    shape = _shape_errors(document)
    if shape:
        return [], shape
    total = sum(len(v) for v in document.values() if isinstance(v, list))
    if total > max_points:
        raise TooManyPoints(f"{total} records in one request; at most max_points ({max_points})")
    records: list[Record] = []
    errors: list[dict[str, Any]] = []
    for kind in ("metric", "event"):
        for index, item in enumerate(document.get(f"{kind}s", [])):
            record = _record(kind, index, item, errors)
            if record is not None:
                records.append(record)
            if index % PIECE_LINES == PIECE_LINES - 1:
                await trio.lowlevel.checkpoint()
    return records, errors


async def _big_records(text: str, max_points: int) -> tuple[list[Record], list[dict[str, Any]]]:
    """Like :func:`_records` for a big body: each item becomes a record as it is decoded (a piece at a time on the
    event loop, :mod:`..jsonpieces`), so the decoded document is never held whole. A body holding an escaped
    surrogate, which only orjson checks exactly, is decoded whole in a worker thread instead (rare)."""
    if needs_whole_decode(text):
        return await _records(await trio.to_thread.run_sync(orjson.loads, text), max_points)
    built: dict[str, list[Record]] = {"metric": [], "event": []}
    errors: list[dict[str, Any]] = []
    taken = 0

    def taker(kind: str) -> Callable[[int, Any], None]:
        def take(index: int, item: Any) -> None:
            nonlocal taken
            taken += 1
            if taken > max_points:
                raise TooManyPoints(f"more than max_points ({max_points}) records in one request")
            record = _record(kind, index, item, errors)
            if record is not None:
                built[kind].append(record)

        return take

    document = await decode_in_pieces(text, PIECE_ITEMS, {"metrics": taker("metric"), "events": taker("event")})
    shape = _shape_errors(document)
    if shape:
        return [], shape
    errors.sort(key=lambda e: e["index"].startswith("events"))  # metrics' first, as _records lists them
    return built["metric"] + built["event"], errors


async def ingest_json(request: Request, delivery: Delivery) -> Response:
    """Accept ``{"metrics": [...], "events": [...]}`` in the record dict shape; all or nothing."""
    server = state_of(request)
    delivery.refuse_if_storage_fails()
    body = await read_body(request, server.options.max_body_bytes)
    big = len(body) > INLINE_BYTES
    # one big body at a time, from decoding until its records are handed on: its records are about ten times its
    # size (three concurrent 10 MB bodies held at once reached 390 MiB), and the event loop's turns stay short
    async with request.app.state.big_body if big else contextlib.nullcontext():
        try:
            if big:
                text = body.decode("utf-8")
                del body
                await trio.lowlevel.checkpoint()  # decoding 10 MB is a few ms: others go before the scan
                records, errors = await _big_records(text, server.options.max_points)
                del text
            else:
                records, errors = await _records(orjson.loads(body), server.options.max_points)
        except (orjson.JSONDecodeError, JsonPiecesError, UnicodeDecodeError) as exc:
            return error_response(400, f"body is not JSON: {exc}")
        if errors:
            first = errors[0]
            return error_response(
                400,
                f"{first['index']}: {first['message']} (nothing was accepted)",
                errors=errors[:MAX_ERRORS],
                error_count=len(errors),
            )
        for start in range(0, len(records), PIECE_LINES):  # pieces: the pipeline's channel holds batches
            await delivery.send(records[start : start + PIECE_LINES])
        metrics = sum(1 for r in records if r.kind == "metric")
        events = len(records) - metrics
        del records  # the sinks hold them now; the answer may wait for their commit
    return await delivery.answer(JSONResponse({"accepted": {"metrics": metrics, "events": events}}))


async def _check(text: str, precision: str, default_ns: int, max_points: int) -> list[list[Metric]] | None:
    """Parse every piece of ``text`` (letting the other tasks in between pieces): the parsed pieces when the body holds
    at most ``KEEP_POINTS`` points, None when it holds more (they are parsed again as they are sent, so memory holds
    one piece at a time). Raises the first bad line's LineProtocolError, or TooManyPoints."""
    pieces: list[list[Metric]] | None = []
    points = 0
    for number, piece in chunks(text, PIECE_LINES):
        metrics = parse(piece, precision, first_line=number, default_ns=default_ns)
        points += len(metrics)
        if points > max_points:
            raise TooManyPoints(f"more than max_points ({max_points}) points in one request")
        if pieces is not None and points <= KEEP_POINTS:
            pieces.append(metrics)
        else:
            pieces = None  # too many to keep: parsed again as they are sent
        await trio.lowlevel.checkpoint()  # a piece is a few milliseconds: /health and the other clients go next
    return pieces


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
    default_ns = now_ns()
    # one big body at a time, as for JSON: a turn of the event loop parses one piece, not one per body
    try:
        async with request.app.state.big_body if len(text) > INLINE_BYTES else contextlib.nullcontext():
            pieces = await _check(text, precision, default_ns, server.options.max_points)
            if pieces is not None:
                for metrics in pieces:
                    await delivery.send(metrics)
            else:
                for number, piece in chunks(text, PIECE_LINES):
                    await delivery.send(parse(piece, precision, first_line=number, default_ns=default_ns))
    except LineProtocolError as exc:
        return error_response(400, f"{exc} (nothing was accepted)", line=exc.line)
    return await delivery.answer(Response(status_code=204))


ROUTES = [
    Route("/api/v1/ingest", AnsweredOnceAccepted(ingest_json), methods=["POST"]),
    Route("/write", AnsweredOnceAccepted(write_lines), methods=["POST"]),
    Route("/api/v2/write", AnsweredOnceAccepted(write_lines), methods=["POST"]),
]
