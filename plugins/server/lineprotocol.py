"""A parser for InfluxDB line protocol (``measurement,tag=v field=1i,other="s" 1700000000000000000``).

Supports escaped commas, spaces and equals signs, quoted string fields with ``\\"`` and ``\\\\`` escapes, integer
(``1i``), unsigned (``1u``), float, boolean (``t``/``true``/``F``/...) and string fields, an optional timestamp with
a precision (``ns``/``n``, ``us``/``u``, ``ms``, ``s``, ``m``, ``h``), blank lines and ``#`` comments. Errors name
the 1-based line number and the problem.

Every value is held to the record limits of :mod:`flcollector` here, so a line no sink could store is a 400 naming
it: a timestamp (after scaling by the precision) within ``[0, MAX_TIME_NS]``, a ``round`` tag within
``[0, MAX_ROUND]``, integer fields (``i`` and ``u``) within 64 bits (signed: what SQLite, Parquet and JSON readers
hold). :func:`chunks` cuts a big body into bounded pieces of lines, so it is parsed a piece at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

from flcollector import MAX_ROUND, MAX_TIME_NS, Metric, now_ns

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
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ROUND_DIGITS = len(str(MAX_ROUND))


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


def _key_end(pair: str) -> int:
    """The index of the ``=`` that ends ``pair``'s key: the first one not escaped by a backslash (-1 if none).
    Tag keys and field keys may both contain ``\\=``."""
    cut = pair.find("=")
    while cut > 0 and pair[cut - 1] == "\\":
        cut = pair.find("=", cut + 1)
    return cut


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
    if last in ("i", "u"):
        kind = "integer" if last == "i" else "unsigned integer"
        try:
            value = int(raw[:-1])
        except ValueError:  # also a number of more than 4,300 digits
            raise LineProtocolError(number, f"field {key!r}: bad {kind} {_short(raw)}") from None
        if last == "u" and value < 0:
            raise LineProtocolError(number, f"field {key!r}: bad unsigned integer {_short(raw)} (negative)")
        if not INT64_MIN <= value <= INT64_MAX:
            raise LineProtocolError(
                number, f"field {key!r}: {kind} {_short(raw)} is beyond 64 bits (send it as a float)"
            )
        return value
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


def _short(text: str) -> str:
    """``text`` quoted, cut to a readable length (a 5,000-digit value must not fill the error message)."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _timestamp(text: str, scale: int, number: int) -> int:
    try:
        value = int(text) * scale
    except ValueError:
        raise LineProtocolError(number, f"bad timestamp {_short(text)}; expected an integer") from None
    if not 0 <= value <= MAX_TIME_NS:
        raise LineProtocolError(
            number, f"timestamp {_short(text)} is out of range: at this precision it must fall in 1970-2262"
        )
    return value


def _round(text: str, number: int) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > _ROUND_DIGITS or int(text) > MAX_ROUND:
        raise LineProtocolError(number, f"tag 'round' must be an integer in [0, {MAX_ROUND}], got {_short(text)}")
    return int(text)


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
        cut = _key_end(pair)
        if cut <= 0 or cut == len(pair) - 1:
            raise LineProtocolError(number, f"bad tag {pair!r}; expected key=value")
        tags[_unescape(pair[:cut])] = _unescape(pair[cut + 1 :])
    fields: dict[str, float | int | bool | str] = {}
    for pair in _split(parts[1], ","):
        cut = _key_end(pair)
        if cut <= 0:
            raise LineProtocolError(number, f"bad field {pair!r}; expected key=value")
        key = _unescape(pair[:cut])
        fields[key] = _field(key, pair[cut + 1 :], number)
    time_ns = _timestamp(parts[2], scale, number) if len(parts) == 3 else default_ns
    round_ = tags.pop("round", None)
    return Metric(
        name=name,
        fields=fields,
        time_ns=time_ns,
        tags=tags,
        source=tags.pop("source", source),
        experiment=tags.pop("experiment", None),
        round=_round(round_, number) if round_ is not None else None,
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
        if round_text is not None and not (
            round_text.isascii() and round_text.isdigit() and len(round_text) <= _ROUND_DIGITS
            and int(round_text) <= MAX_ROUND
        ):
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
                number = int(raw[:-1])
            except ValueError:
                return None
            if not INT64_MIN <= number <= INT64_MAX:
                return None
            fields[key] = number
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
        if not 0 <= time_ns <= MAX_TIME_NS:
            return None
    else:
        time_ns = default_ns
    tags, metric_source, experiment, round_ = axes
    return Metric(name, fields, time_ns, dict(tags), metric_source, experiment, round_)


def parse(text: str, precision: str = "ns", source: str = "ingest", *, first_line: int = 1,
          default_ns: int | None = None) -> list[Metric]:
    """Parse a whole body (or one of its :func:`chunks`, whose first line is ``first_line``); raise
    :class:`LineProtocolError` for the first bad line (nothing is half-accepted). Points without a timestamp get
    ``default_ns`` (the request's time: every chunk of one body gets the same), else now."""
    scale = PRECISION_NS.get(precision)
    if scale is None:
        raise ValueError(f"precision must be one of {', '.join(PRECISION_NS)}, got {precision!r}")
    default_ns = now_ns() if default_ns is None else default_ns
    metrics: list[Metric] = []
    append = metrics.append
    # Parsed tag sets, keyed by their raw text: batches repeat a handful of series, so each is parsed once.
    tag_cache: dict[str, tuple[dict[str, str], str, str | None, int | None]] = {}
    # Only \n ends a line (str.splitlines would also split on \x1e, \x85, ... inside string fields).
    for number, raw in enumerate(text.split("\n"), start=first_line):
        line = raw.strip(" \t\r")
        if not line or line[0] == "#":
            continue
        metric = None
        if "\\" not in line and '"' not in line:
            metric = _fast_line(line, scale, default_ns, source, tag_cache)
        append(metric if metric is not None else parse_line(line, number, scale, default_ns, source))
    return metrics


def chunks(text: str, lines: int) -> Iterator[tuple[int, str]]:
    """Cut ``text`` into pieces of at most ``lines`` lines: ``(number of its first line, piece)``, in order.

    Cheap (one ``str.find`` per line, no list of every line), so a big body is never split into millions of strings
    at once: each piece is parsed, sent on and freed before the next.
    """
    position, number, end_of_text = 0, 1, len(text)
    while position < end_of_text:
        end = position
        for _ in range(lines):
            end = text.find("\n", end)
            if end == -1:
                end = end_of_text
                break
            end += 1
        yield number, text[position:end]
        number += lines
        position = end
