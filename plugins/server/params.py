"""The one query-parameter parser of every face: a malformed value becomes a 400 whose message names the parameter.

Both faces (the spec's API and the FLOPY-NET dashboard's) read their parameters here; where their contracts differ
(the dashboard clamps a ``limit`` above its maximum where the spec refuses it), the route passes ``clamp`` or
``high``. Every getter takes the accepted spellings of a parameter in order; the first non-empty one wins.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from flcollector import LEVELS, Duration

#: Stores keep integers in 64 bits (SQLite INTEGER); larger values are a 400, never a crash in the store.
INT64_MAX = 2**63 - 1
MAX_DURATION_S = 100 * 365 * 86400.0
MAX_OFFSET = 100_000_000  # the largest offset= the spec API accepts
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TRUE = ("1", "true", "yes", "on", "t", "y")
_FALSE = ("0", "false", "no", "off", "f", "n")


class ParamError(ValueError):
    """A malformed query parameter (or body field); each face answers it with a 400 naming ``param``."""

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"parameter {param!r}: {problem}")
        self.param = param
        self.problem = problem


def parse_time(param: str, text: str, *, clamp: bool = False) -> int:
    """Parse ISO-8601 (``Z``, ``z`` or an offset; naive means UTC) or an epoch number into integer nanoseconds.

    Bare numbers are seconds; very large ones are taken as milliseconds, microseconds or nanoseconds by magnitude,
    so ``Date.now()`` from a browser also works. An offset's ``+`` sent unencoded arrives as a space; it is read
    back as ``+``. A store holds 1970 to 2262 (a signed 64-bit nanosecond count from the epoch). A well-formed time
    outside that range is an error (a record's time, which must not be moved), or with ``clamp`` (a query's bound,
    such as ``from=2999-01-01T00:00:00Z`` or ``-7.5e306``) is moved to the range's end, so it selects nothing or
    everything; only text that is not a time is always an error.
    """
    value = text.strip()
    try:
        number: int | float = int(value) if value.isdigit() else float(value)  # digits stay exact: no float
    except ValueError:
        pass
    else:
        if math.isnan(number):
            raise ParamError(param, f"expected a time, got {text!r}")
        if number < 0 or math.isinf(number):
            return _in_range(param, text, -1 if number < 0 else INT64_MAX + 1, clamp)
        scale = 1 if number >= 1e17 else 1_000 if number >= 1e14 else 1_000_000 if number >= 1e11 else 10**9
        return _in_range(param, text, int(number * scale), clamp)
    if "T" in value and " " in value:
        value = value.replace(" ", "+", 1)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ParamError(param, f"expected ISO-8601 (2025-01-16T10:30:00Z) or epoch seconds, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        time_ns = (moment - _EPOCH) // timedelta(microseconds=1) * 1000  # exact: no float rounding
    except OverflowError:  # year 1 or 9999 with an offset falls off the calendar: before 1970 or after 2262
        time_ns = -1 if moment.year < 1970 else INT64_MAX + 1
    return _in_range(param, text, time_ns, clamp)


def _in_range(param: str, text: str, time_ns: int, clamp: bool) -> int:
    """``time_ns`` when a store can hold it; else clamped into 0..INT64_MAX, or a 400 naming ``param``."""
    if 0 <= time_ns <= INT64_MAX:
        return time_ns
    if clamp:
        return min(max(time_ns, 0), INT64_MAX)
    raise ParamError(param, f"time out of range (1970 to 2262): {text!r}")


#: Query strings up to this many bytes are parsed once and kept (a dashboard polls the same few again and again).
MAX_KEPT_QUERY = 512


@functools.lru_cache(maxsize=256)
def _parsed_query(raw: bytes) -> tuple[Mapping[str, str], tuple[tuple[str, str], ...]]:
    """A query string's parameters as Starlette's ``QueryParams`` reads them (the last of a repeated name wins in
    the mapping), read-only because every request that sends the same string shares them. Parsing costs a third of
    a cheap route's own work."""
    pairs = tuple(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    return MappingProxyType(dict(pairs)), pairs


class Params:
    """Typed access to a request's query parameters (``Params.of(request)``)."""

    def __init__(self, query: Mapping[str, str], multi: Iterable[tuple[str, str]] = ()) -> None:
        self.query = query
        self.multi = list(multi)

    @classmethod
    def of(cls, request: Any) -> Params:
        """The query parameters of a Starlette request (repeated ones included)."""
        raw: bytes = request.scope.get("query_string", b"")
        if len(raw) > MAX_KEPT_QUERY:
            query = request.query_params
            return cls(query, query.multi_items())
        return cls(*_parsed_query(raw))

    def _get(self, names: tuple[str, ...]) -> tuple[str, str | None]:
        for name in names:
            value = self.query.get(name)
            if value is not None and value.strip():
                return name, value.strip()
        return names[0], None

    def text(self, *names: str) -> str | None:
        """Return the value (stripped), or None when absent or blank."""
        return self._get(names)[1]

    def integer(
        self,
        *names: str,
        default: int | None = None,
        low: int | None = None,
        high: int | None = None,
        clamp: int | None = None,
    ) -> int | None:
        """Return an integer; below ``low`` or above ``high`` is a 400, above ``clamp`` is clamped to it."""
        name, value = self._get(names)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ParamError(name, f"expected an integer, got {value!r}") from None
        if not -INT64_MAX <= number <= INT64_MAX:
            raise ParamError(name, f"out of range, got {value!r}")
        if low is not None and number < low:
            raise ParamError(name, f"must be >= {low}, got {number}")
        if high is not None and number > high:
            raise ParamError(name, f"must be <= {high}, got {number}")
        return number if clamp is None else min(number, clamp)

    def decimal(self, *names: str, default: float | None = None) -> float | None:
        """Return a finite number."""
        name, value = self._get(names)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ParamError(name, f"expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ParamError(name, f"expected a finite number, got {value!r}")
        return number

    def time(self, *names: str) -> int | None:
        """Return a time bound in nanoseconds (see :func:`parse_time`; beyond 1970..2262 it is clamped), or None."""
        name, value = self._get(names)
        return None if value is None else parse_time(name, value, clamp=True)

    def duration(self, *names: str, default: float) -> float:
        """Return a duration in seconds (``"5m"``, ``"1h"``, ``"30"``)."""
        name, value = self._get(names)
        if value is None:
            return default
        try:
            seconds = float(Duration.parse(value))
        except ValueError as exc:
            raise ParamError(name, str(exc)) from None
        if not 0 < seconds <= MAX_DURATION_S:
            raise ParamError(name, f"must be positive and at most 100 years, got {value!r}")
        return seconds

    def choice(self, *names: str, options: tuple[str, ...], default: str) -> str:
        """Return one of ``options`` (case-insensitive)."""
        name, value = self._get(names)
        if value is None:
            return default
        lowered = value.lower()
        if lowered not in options:
            raise ParamError(name, f"expected one of {', '.join(options)}, got {value!r}")
        return lowered

    def flag(self, *names: str, default: bool) -> bool:
        """Return a boolean (true/false, 1/0, yes/no, on/off, t/f, y/n)."""
        name, value = self._get(names)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ParamError(name, f"expected true or false, got {value!r}")

    def listing(self, *names: str) -> list[str] | None:
        """Return a comma-separated (or repeated) parameter as a list, or None."""
        values = [v for key, v in self.multi if key in names]
        if not values:
            single = self.text(*names)
            values = [single] if single else []
        items = [item.strip() for value in values for item in value.split(",") if item.strip()]
        return items or None

    def levels(self, *names: str) -> list[str] | None:
        """Return event levels (any case), checked against DEBUG..CRITICAL."""
        items = self.listing(*names)
        if items is None:
            return None
        upper = [item.upper() for item in items]
        for item in upper:
            if item not in LEVELS:
                name = next((n for n in names if self.text(n)), names[0])
                raise ParamError(name, f"expected levels among {', '.join(LEVELS)}, got {item!r}")
        return upper

    def tags(self, prefix: str = "tag.") -> dict[str, str]:
        """Return ``{k: v}`` from ``tag.<k>=<v>`` parameters."""
        return {
            key[len(prefix) :]: value for key, value in self.multi if key.startswith(prefix) and len(key) > len(prefix)
        }


def listing_query(params: Params, max_limit: int, default_order: str) -> dict[str, Any]:
    """What the spec API's list routes share, as query keyword arguments: ``experiment``, ``round``, the time
    window (``from``/``to``), paging (``limit`` up to ``max_limit``, ``offset``) and ``order``."""
    return {
        "experiment": params.text("experiment", "experiment_id"),
        "round": params.integer("round", low=0),
        "start_ns": params.time("from", "start", "start_time"),
        "end_ns": params.time("to", "end", "end_time"),
        "limit": params.integer("limit", default=100, low=1, high=max_limit) or 100,
        "offset": params.integer("offset", default=0, low=0, high=MAX_OFFSET) or 0,
        "order": params.choice("order", options=("asc", "desc"), default=default_order),
    }
