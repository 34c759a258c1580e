"""JSON in and out for the server: orjson responses, the error shape, ISO-8601 timestamps and record dicts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from flcollector import Record, record_to_dict
from starlette.responses import Response

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(data: Any) -> bytes:
    """Serialise ``data`` to JSON bytes (NaN and infinities become null, as JSON has no spelling for them)."""
    return orjson.dumps(data, option=_JSON_OPTIONS, default=_fallback)


def _fallback(value: Any) -> Any:
    # Mappings and sequences that are not dict/list (record fields are Mappings) serialise as their plain form.
    if hasattr(value, "items"):
        return dict(value.items())
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


class JSONResponse(Response):
    """A JSON response rendered with orjson (about 10x faster than the standard library on record lists)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Render ``content`` as JSON bytes."""
        return dumps(content)


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """Return the one error shape every route uses: ``{"error": {"status": ..., "message": ...}}``."""
    return {"error": {"status": status, "message": message, **extra}}


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    """Return a JSON error response in the shape of :func:`error_body`."""
    return JSONResponse(error_body(status, message, **extra), status_code=status, headers=headers)


def iso(time_ns: int | None) -> str | None:
    """Format integer nanoseconds since the epoch as ISO-8601 UTC with microseconds and a ``Z``."""
    if time_ns is None:
        return None
    seconds, rest = divmod(time_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_json(record: Record) -> dict[str, Any]:
    """Return the record dict (``kind``, ``time_ns``, ...) plus ``timestamp`` as an ISO-8601 UTC string."""
    data = record_to_dict(record)
    data["timestamp"] = iso(record.time_ns)
    return data
