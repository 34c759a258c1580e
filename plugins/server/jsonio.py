"""The one JSON helper of every face: orjson responses, error answers, ISO-8601 timestamps and record dicts.

The faces differ only where their contracts do: the spec's API writes times with a ``Z`` and errors as
``{"error": {"status", "message", ...}}`` (:func:`error_body`); the FLOPY-NET dashboard's contract
(``flcollector.plugins.dashboard.contract``) passes its own zone suffix and error shape to the same functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from flcollector import Record, record_to_dict
from starlette.responses import Response

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

#: Builds an error body from ``(status, message, **extra)``; each face has one.
ErrorShape = Callable[..., dict[str, Any]]


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
    """The spec API's error shape: ``{"error": {"status": ..., "message": ..., **extra}}``."""
    return {"error": {"status": status, "message": message, **extra}}


def error_response(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    shape: ErrorShape = error_body,
    **extra: Any,
) -> JSONResponse:
    """A JSON error response; ``shape`` builds the body (the spec's :func:`error_body` unless a face has another)."""
    return JSONResponse(shape(status, message, **extra), status_code=status, headers=headers)


# A page of records, and the status routes, write times of the same few seconds. A new second arrives every second,
# so the cache fills at that pace: 4,096 took 68 minutes (one of the soak's slow climbs, issue 13); 256 fill in four.
@functools.lru_cache(maxsize=256)
def _second(seconds: int) -> str:
    """A second's text up to its fraction: ``2026-11-29T14:08:26.``."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "."


def format_time(time_ns: int, zone: str = "Z") -> str:
    """Integer nanoseconds since the epoch as ISO-8601 UTC with microseconds, ending in ``zone`` (exact: no float)."""
    seconds, rest = divmod(time_ns, 1_000_000_000)
    # The six digits as the text of 1xxxxxx less its "1": a list route writes one per row, and this is a third
    # cheaper than a :06d format.
    return f"{_second(seconds)}{str(rest // 1000 + 1_000_000)[1:]}{zone}"


def format_times(times: Iterable[int], zone: str = "Z") -> list[str]:
    """:func:`format_time` of each time, for a page of rows: a row of the same second as the one before (the rows
    of a page mostly are) reuses that second's text without asking the cache (a third cheaper)."""
    texts, last, second = [], None, ""
    for time_ns in times:
        seconds, rest = divmod(time_ns, 1_000_000_000)
        if seconds != last:
            last, second = seconds, _second(seconds)
        texts.append(f"{second}{str(rest // 1000 + 1_000_000)[1:]}{zone}")
    return texts


def iso(time_ns: int | None) -> str | None:
    """The spec API's timestamps: :func:`format_time` with a ``Z``, and None for None."""
    return None if time_ns is None else format_time(time_ns)


def record_json(record: Record) -> dict[str, Any]:
    """Return the record dict (``kind``, ``time_ns``, ...) plus ``timestamp`` as an ISO-8601 UTC string."""
    data = record_to_dict(record)
    data["timestamp"] = format_time(record.time_ns)
    return data
