"""Query-parameter parsing: every malformed value becomes a 400 whose message names the parameter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from flcollector import LEVELS, Duration

#: Stores keep integers in 64 bits (SQLite INTEGER); larger values are a 400, never a crash in the store.
INT64_MAX = 2**63 - 1
MAX_DURATION_S = 100 * 365 * 86400.0


class ParamError(ValueError):
    """A malformed query parameter (or body field); the app turns it into a 400 naming ``param``."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"parameter {param!r}: {message}")
        self.param = param


def parse_time(param: str, text: str) -> int:
    """Parse ISO-8601 (naive means UTC) or epoch seconds into integer nanoseconds.

    Bare numbers are seconds; very large ones are taken as milliseconds, microseconds or nanoseconds by magnitude,
    so ``Date.now()`` from a browser also works.
    """
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if number != number or number in (float("inf"), float("-inf")) or number < 0:
            raise ParamError(param, f"expected a time, got {text!r}")
        if number >= 1e17:
            time_ns = int(number)
        elif number >= 1e14:
            time_ns = int(number * 1e3)
        elif number >= 1e11:
            time_ns = int(number * 1e6)
        else:
            time_ns = int(number * 1e9)
        if time_ns > INT64_MAX:
            raise ParamError(param, f"time out of range (1970 to 2262): {text!r}")
        return time_ns
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ParamError(param, f"expected ISO-8601 (2025-01-16T10:30:00Z) or epoch seconds, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        time_ns = int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset falls off the calendar
        time_ns = INT64_MAX + 1
    if not 0 <= time_ns <= INT64_MAX:
        raise ParamError(param, f"time out of range (1970 to 2262): {text!r}")
    return time_ns


class Params:
    """Typed access to a request's query parameters; the first of several spellings that is present wins."""

    def __init__(self, query: Mapping[str, str], multi: Iterable[tuple[str, str]] = ()) -> None:
        self.query = query
        self.multi = list(multi)

    def _get(self, names: tuple[str, ...]) -> tuple[str, str | None]:
        for name in names:
            value = self.query.get(name)
            if value is not None and value != "":
                return name, value
        return names[0], None

    def text(self, *names: str) -> str | None:
        """Return the raw value, or None when absent or empty."""
        return self._get(names)[1]

    def integer(
        self, *names: str, default: int | None = None, low: int | None = None, high: int | None = None
    ) -> int | None:
        """Return an integer within ``[low, high]``; out-of-range or non-integer values are a 400."""
        name, value = self._get(names)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ParamError(name, f"expected an integer, got {value!r}") from None
        low = -INT64_MAX if low is None else low
        high = INT64_MAX if high is None else high
        if number < low:
            raise ParamError(name, f"must be >= {low}, got {number}")
        if number > high:
            raise ParamError(name, f"must be <= {high}, got {number}")
        return number

    def time(self, *names: str) -> int | None:
        """Return a time in nanoseconds (ISO-8601 or epoch seconds), or None."""
        name, value = self._get(names)
        return None if value is None else parse_time(name, value)

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
        """Return a boolean (true/false, 1/0, yes/no)."""
        name, value = self._get(names)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
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
                raise ParamError(names[0], f"expected levels among {', '.join(LEVELS)}, got {item!r}")
        return upper

    def tags(self, prefix: str = "tag.") -> dict[str, str]:
        """Return ``{k: v}`` from ``tag.<k>=<v>`` parameters."""
        return {
            key[len(prefix) :]: value for key, value in self.multi if key.startswith(prefix) and len(key) > len(prefix)
        }
