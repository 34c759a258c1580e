"""Reading ``POST /api/v1/export``: every field checked, and a problem reported as the field it is about.

Body (JSON object, every field optional): ``experiment_id`` (text or null), ``components`` (list of the spec's
component names or our metric names; default every record), ``start_time`` and ``end_time`` (ISO 8601, epoch
seconds, ``now`` or a duration ago such as ``2h``), ``format`` (``json``, ``jsonl``, ``csv``, ``parquet``, or
``rounds``: the round table, one JSON line per round, with its manifest; default ``json``) and ``aggregation``
(``raw``, ``1m``, ``5m``, ``1h`` or any duration; default ``raw``; a round table is per round: ``raw`` only).
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson
from flcollector.export import parse_time
from flcollector.selection import parse_aggregation

FORMATS = ("json", "jsonl", "csv", "parquet", "rounds")
FIELDS = ("experiment_id", "components", "start_time", "end_time", "format", "aggregation")


class RequestError(ValueError):
    """A bad request; ``field`` names the body field at fault."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


@attrs.frozen
class ExportRequest:
    """A checked export request."""

    experiment_id: str | None = None
    components: tuple[str, ...] | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    format: str = "json"
    aggregation: str = "raw"
    bucket_ns: int | None = None


def _text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and field.endswith("_time"):
        return str(value)  # epoch seconds as a number
    if not isinstance(value, str):
        raise RequestError(field, f"{field} must be a string, got {type(value).__name__}")
    return value


def _time(body: dict[str, Any], field: str) -> int | None:
    text = _text(body, field)
    try:
        return None if text is None else parse_time(text)
    except ValueError as exc:
        raise RequestError(field, f"{field}: {exc}") from None


def parse_request(raw: bytes) -> ExportRequest:
    """Return the checked request for the JSON body ``raw``; raise RequestError naming the field."""
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise RequestError(None, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise RequestError(None, "the body must be a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise RequestError(unknown[0], f"unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}")
    components = body.get("components")
    if components is not None and (not isinstance(components, list) or not all(isinstance(c, str)
                                                                                  for c in components)):
        raise RequestError("components", "components must be a list of names, e.g. [\"fl_metrics\"]")
    fmt = (_text(body, "format") or "json").lower()
    if fmt not in FORMATS:
        raise RequestError("format", f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    aggregation = _text(body, "aggregation") or "raw"
    try:
        bucket = parse_aggregation(aggregation)
    except ValueError as exc:
        raise RequestError("aggregation", str(exc)) from None
    if fmt == "rounds":
        if bucket is not None:
            raise RequestError("aggregation", "the rounds format has one row per round: ask for aggregation raw")
        components = components if components is not None else ["rounds"]  # the table and its manifest's events
    start, end = _time(body, "start_time"), _time(body, "end_time")
    if start is not None and end is not None and start > end:
        raise RequestError("start_time", "start_time is after end_time")
    return ExportRequest(
        experiment_id=_text(body, "experiment_id"),
        components=tuple(components) if components is not None else None,
        start_ns=start, end_ns=end, format=fmt, aggregation=aggregation.strip().lower(), bucket_ns=bucket,
    )
