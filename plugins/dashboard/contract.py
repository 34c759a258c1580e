"""Query-parameter parsing, time formatting and JSON answers for the FLOPY-NET-compatible routes.

Upstream silently fell back to defaults (or answered 500) on a bad parameter; here a bad value is a 400 whose
message names the parameter. Both upstream spellings of a parameter are accepted (``type``/``metric_type``...), and
a ``limit`` above the route's maximum is clamped rather than refused, because the dashboard really sends such
limits (``/api/metrics/fl?limit=1500``).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("flcollector.listener.server.dashboard")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64_MAX = 2**63 - 1
_TRUE = ("1", "true", "yes", "on", "t", "y")
_FALSE = ("0", "false", "no", "off", "f", "n")


class ParamError(ValueError):
    """A query parameter with a bad value; answered as 400 naming ``param``."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


class JSONResponse(Response):
    """A JSON response written with orjson: NaN and infinities become ``null`` instead of invalid JSON."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content``; non-JSON values (sets, paths) fall back to ``str``."""
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


def iso(time_ns: int | None) -> str:
    """Return ``time_ns`` (or now, for None) as ISO-8601 UTC with an explicit ``+00:00`` offset.

    ``+00:00`` rather than ``Z`` because ``datetime.fromisoformat`` before Python 3.11 (the dashboard backend's
    interpreter is unknown) rejects ``Z`` but accepts an offset.
    """
    seconds, rest = divmod(time.time_ns() if time_ns is None else time_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)  # exact: no float rounding
    return moment.isoformat(timespec="microseconds")


def parse_time(param: str, text: str) -> int:
    """Parse an ISO-8601 time (``Z`` or offset; a naive time is UTC) or Unix seconds into nanoseconds."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ParamError(param, f"{param} must be an ISO-8601 time or Unix seconds, got {text!r}")
        return _in_range(param, text, int(seconds * 1e9))
    if "T" in value and " " in value:  # an unencoded '+' of an offset arrives as a space in a query string
        value = value.replace(" ", "+", 1)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParamError(param, f"{param} must be an ISO-8601 time or Unix seconds, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _in_range(param, text, (moment - _EPOCH) // timedelta(microseconds=1) * 1000)  # exact, no float


def _in_range(param: str, text: str, time_ns: int) -> int:
    """Keep times where the store can hold them: 1970 up to 2262 (nanoseconds in a signed 64-bit integer)."""
    if not 0 <= time_ns <= _INT64_MAX:
        raise ParamError(param, f"{param} is out of range (1970-01-01 .. 2262-04-11), got {text!r}")
    return time_ns


class Params:
    """Typed access to a request's query string; every getter takes the accepted spellings in order."""

    def __init__(self, request: Request) -> None:
        self.query = request.query_params

    def _raw(self, names: str | Sequence[str]) -> tuple[str, str | None]:
        for name in [names] if isinstance(names, str) else names:
            value = self.query.get(name)
            if value is not None and value.strip() != "":
                return name, value.strip()
        first = names if isinstance(names, str) else names[0]
        return first, None

    def text(self, names: str | Sequence[str], default: str | None = None) -> str | None:
        """Return the first non-empty value among ``names``, else ``default``."""
        return self._raw(names)[1] or default

    def integer(
        self,
        names: str | Sequence[str],
        default: int | None = None,
        *,
        minimum: int | None = None,
        clamp: int | None = None,
    ) -> int | None:
        """Return an integer (400 when not one, or below ``minimum``); values above ``clamp`` are clamped."""
        name, raw = self._raw(names)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ParamError(name, f"{name} must be an integer, got {raw!r}") from None
        if abs(value) > _INT64_MAX:  # the store keeps 64-bit integers
            raise ParamError(name, f"{name} is out of range, got {raw!r}")
        if minimum is not None and value < minimum:
            raise ParamError(name, f"{name} must be at least {minimum}, got {value}")
        return min(value, clamp) if clamp is not None else value

    def decimal(self, names: str | Sequence[str], default: float | None = None) -> float | None:
        """Return a finite float, or 400."""
        name, raw = self._raw(names)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ParamError(name, f"{name} must be a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise ParamError(name, f"{name} must be a finite number, got {raw!r}")
        return value

    def flag(self, names: str | Sequence[str], default: bool) -> bool:
        """Return true/false (also 1/0, yes/no, on/off), or 400."""
        name, raw = self._raw(names)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ParamError(name, f"{name} must be true or false, got {raw!r}")

    def choice(self, names: str | Sequence[str], choices: Sequence[str], default: str) -> str:
        """Return one of ``choices`` (case-insensitive), or 400 listing them."""
        name, raw = self._raw(names)
        if raw is None:
            return default
        if raw.lower() not in choices:
            raise ParamError(name, f"{name} must be one of {', '.join(choices)}; got {raw!r}")
        return raw.lower()

    def time(self, names: str | Sequence[str]) -> int | None:
        """Return a time in nanoseconds (see :func:`parse_time`), or None when absent."""
        name, raw = self._raw(names)
        return None if raw is None else parse_time(name, raw)


Handler = Callable[[Request], Awaitable[Any]]


def endpoint(fn: Callable[[Request], Awaitable[Any]]) -> Handler:
    """Wrap a handler that returns a JSON-ready body: bad parameters become 400, surprises a JSON 500.

    A handler may return a :class:`~starlette.responses.Response` itself when it needs another status.
    """

    @functools.wraps(fn)
    async def handle(request: Request) -> Response:
        try:
            body = await fn(request)
        except ParamError as exc:
            return JSONResponse({"status": "error", "message": exc.message, "param": exc.param}, status_code=400)
        except Exception as exc:  # answer in JSON and keep serving; the traceback goes to the log
            log.exception("dashboard route %s failed", request.url.path)
            return JSONResponse({"status": "error", "message": f"{type(exc).__name__}: {exc}"}, status_code=500)
        return body if isinstance(body, Response) else JSONResponse(body)

    return handle
