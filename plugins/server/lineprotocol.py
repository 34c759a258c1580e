"""A parser for InfluxDB line protocol (``measurement,tag=v field=1i,other="s" 1700000000000000000``).

Supports escaped commas, spaces and equals signs, quoted string fields with ``\\"`` and ``\\\\`` escapes, integer
(``1i``), unsigned (``1u``), float, boolean (``t``/``true``/``F``/...) and string fields, an optional timestamp with
a precision (``ns``/``n``, ``us``/``u``, ``ms``, ``s``, ``m``, ``h``), blank lines and ``#`` comments. Errors name
the 1-based line number and the problem.
"""

from __future__ import annotations

from flcollector import Metric, now_ns

PRECISION_NS = {
    "ns": 1,
    "n": 1,
    "us": 1_000,
    "u": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
TRUE = frozenset({"t", "T", "true", "True", "TRUE"})
FALSE = frozenset({"f", "F", "false", "False", "FALSE"})
#: Tags lifted onto the record's own axes instead of staying tags.
AXIS_TAGS = ("source", "experiment", "round")


class LineProtocolError(ValueError):
    """A line that cannot be parsed; ``line`` is 1-based."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside backslash escapes and double quotes."""
    if "\\" not in text and '"' not in text:
        return text.split(sep)
    parts, start, i, quoted = [], 0, 0, False
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return text.replace("\\,", ",").replace("\\=", "=").replace("\\ ", " ").replace("\\\\", "\\")


def _field(key: str, raw: str, number: int) -> float | int | bool | str:
    if not raw:
        raise LineProtocolError(number, f"field {key!r} has no value")
    if raw[0] == '"':
        if len(raw) < 2 or raw[-1] != '"':
            raise LineProtocolError(number, f"field {key!r}: unterminated string {raw!r}")
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    last = raw[-1]
    try:
        if last == "i":
            return int(raw[:-1])
        if last == "u":
            value = int(raw[:-1])
            if value < 0:
                raise ValueError
            return value
    except ValueError:
        kind = "integer" if last == "i" else "unsigned integer"
        raise LineProtocolError(number, f"field {key!r}: bad {kind} {raw!r}") from None
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    try:
        value_f = float(raw)
    except ValueError:
        raise LineProtocolError(number, f'field {key!r}: bad value {raw!r} (quote strings: "...")') from None
    if value_f != value_f or value_f in (float("inf"), float("-inf")):
        raise LineProtocolError(number, f"field {key!r}: {raw!r} is not a finite number")
    return value_f


def parse_line(line: str, number: int, scale: int, default_ns: int, source: str) -> Metric:
    """Parse one non-empty line into a :class:`Metric`."""
    parts = _split(line, " ")
    parts = [p for p in parts if p != ""]  # runs of spaces are allowed between sections
    if len(parts) < 2:
        raise LineProtocolError(number, "expected 'measurement[,tags] fields [timestamp]'")
    if len(parts) > 3:
        raise LineProtocolError(number, "unexpected text after the timestamp (unescaped space?)")
    head = _split(parts[0], ",")
    name = _unescape(head[0])
    if not name:
        raise LineProtocolError(number, "empty measurement name")
    tags: dict[str, str] = {}
    for pair in head[1:]:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise LineProtocolError(number, f"bad tag {pair!r}; expected key=value")
        tags[_unescape(key)] = _unescape(value)
    fields: dict[str, float | int | bool | str] = {}
    for pair in _split(parts[1], ","):
        cut = pair.find("=")
        while cut > 0 and pair[cut - 1] == "\\":
            cut = pair.find("=", cut + 1)
        if cut <= 0:
            raise LineProtocolError(number, f"bad field {pair!r}; expected key=value")
        key = _unescape(pair[:cut])
        fields[key] = _field(key, pair[cut + 1 :], number)
    if len(parts) == 3:
        try:
            time_ns = int(parts[2]) * scale
        except ValueError:
            raise LineProtocolError(number, f"bad timestamp {parts[2]!r}; expected an integer") from None
    else:
        time_ns = default_ns
    round_ = tags.pop("round", None)
    if round_ is not None and not (round_.isascii() and round_.isdigit()):
        raise LineProtocolError(number, f"tag 'round' must be a non-negative integer, got {round_!r}")
    return Metric(
        name=name,
        fields=fields,
        time_ns=time_ns,
        tags=tags,
        source=tags.pop("source", source),
        experiment=tags.pop("experiment", None),
        round=int(round_) if round_ is not None else None,
    )


_FINITE_LAST = frozenset("0123456789.")
_INFINITE = (float("inf"), float("-inf"))


def _fast_line(
    line: str,
    scale: int,
    default_ns: int,
    source: str,
    tag_cache: dict[str, tuple[dict[str, str], str, str | None, int | None]],
) -> Metric | None:
    """Parse the common shape (no escapes, no quotes, single spaces); ``None`` means "use the full parser".

    Anything unusual, including every error, falls back so messages stay identical to :func:`parse_line`.
    """
    parts = line.split(" ")
    count = len(parts)
    if count != 2 and count != 3:
        return None
    name, _, tag_text = parts[0].partition(",")
    if not name:
        return None
    axes = tag_cache.get(tag_text)
    if axes is None:
        tags: dict[str, str] = {}
        if tag_text:
            for pair in tag_text.split(","):
                key, _, value = pair.partition("=")
                if not key or not value or "=" in value:
                    return None
                tags[key] = value
        round_text = tags.pop("round", None)
        if round_text is not None and not (round_text.isascii() and round_text.isdigit()):
            return None
        axes = (
            tags,
            tags.pop("source", source),
            tags.pop("experiment", None),
            int(round_text) if round_text is not None else None,
        )
        tag_cache[tag_text] = axes
    fields: dict[str, float | int | bool | str] = {}
    for pair in parts[1].split(","):
        key, _, raw = pair.partition("=")
        if not key or not raw or "=" in raw:
            return None
        # Plain decimals are by far the most common value; anything else goes through the full field parser.
        last = raw[-1]
        if last in _FINITE_LAST:
            try:
                number = float(raw)
            except ValueError:
                return None
            if number in _INFINITE:  # "1e999" overflows; the full parser reports it
                return None
            fields[key] = number
        elif last == "i":
            try:
                fields[key] = int(raw[:-1])
            except ValueError:
                return None
        elif raw in TRUE:
            fields[key] = True
        else:
            try:
                fields[key] = _field(key, raw, 0)
            except LineProtocolError:
                return None
    if count == 3:
        stamp = parts[2]
        try:
            time_ns = int(stamp) * scale
        except ValueError:
            return None
    else:
        time_ns = default_ns
    tags, metric_source, experiment, round_ = axes
    return Metric(name, fields, time_ns, dict(tags), metric_source, experiment, round_)


def parse(text: str, precision: str = "ns", source: str = "ingest") -> list[Metric]:
    """Parse a whole body; raise :class:`LineProtocolError` for the first bad line (nothing is half-accepted)."""
    scale = PRECISION_NS.get(precision)
    if scale is None:
        raise ValueError(f"precision must be one of {', '.join(PRECISION_NS)}, got {precision!r}")
    default_ns = now_ns()
    metrics: list[Metric] = []
    append = metrics.append
    # Parsed tag sets, keyed by their raw text: batches repeat a handful of series, so each is parsed once.
    tag_cache: dict[str, tuple[dict[str, str], str, str | None, int | None]] = {}
    # Only \n ends a line (str.splitlines would also split on \x1e, \x85, ... inside string fields).
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t\r")
        if not line or line[0] == "#":
            continue
        metric = None
        if "\\" not in line and '"' not in line:
            metric = _fast_line(line, scale, default_ns, source, tag_cache)
        append(metric if metric is not None else parse_line(line, number, scale, default_ns, source))
    return metrics
