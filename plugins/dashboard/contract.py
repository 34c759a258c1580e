"""The FLOPY-NET dashboard's contract, written once: where its answers differ from the spec API's.

Both faces share one parameter parser (``flcollector.plugins.server.params``) and one JSON helper
(``flcollector.plugins.server.jsonio``). The dashboard's backend (reference §1.3) expects, and so gets:

* timestamps as ISO-8601 UTC with an explicit ``+00:00`` (``datetime.fromisoformat`` before Python 3.11, which
  the dashboard backend may run, rejects ``Z``);
* errors as ``{"status": "error", "message": ..., "param": ...}`` (400 for a bad parameter, naming it; a JSON 500
  for a surprise), where upstream fell back to defaults or answered 500;
* a ``limit`` above a route's maximum clamped, not refused: the dashboard really sends ``/api/metrics/fl?limit=1500``;
* ``all``, ``*`` or ``any`` (a UI's "no filter" choice) as no filter, and both upstream spellings of a parameter;
* metric and event rows in upstream's shapes (:func:`metric_item`, :func:`event_item`), with FLOPY-NET's component
  names (``FL_SERVER``, ``POLICY_ENGINE``, ``COLLECTOR``...) where upstream wrote them, and a source filter that takes
  them back (:func:`source_filter`): the one mapping is ``flcollector.component_name`` / ``source_name``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from flcollector import Event, Metric, component_name, now_ns, source_name
from flcollector.plugins.server.jsonio import JSONResponse, error_response, format_time
from flcollector.plugins.server.params import ParamError, Params
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("flcollector.dashboard")

ZONE = "+00:00"
_ALL = ("all", "*", "any")


def iso(time_ns: int) -> str:
    """A timestamp as the dashboard reads it: ISO-8601 UTC, microseconds, ``+00:00``."""
    return format_time(time_ns, ZONE)


def now_iso() -> str:
    """The current time as :func:`iso` writes it."""
    return format_time(now_ns(), ZONE)


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """The dashboard's error shape (the ``status`` word is upstream's; the HTTP status carries the code)."""
    return {"status": "error", "message": message, **extra}


Handler = Callable[[Request], Awaitable[Any]]


def endpoint(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler returning a JSON-ready body: a bad parameter becomes a 400, a surprise a JSON 500.

    A handler may return a :class:`~starlette.responses.Response` itself when it needs another status.
    """

    @functools.wraps(fn)
    async def handle(request: Request) -> Response:
        try:
            body = await fn(request)
        except ParamError as exc:
            return error_response(400, str(exc), shape=error_body, param=exc.param)
        except Exception as exc:  # answer in JSON and keep serving; the traceback goes to the log
            log.exception("dashboard route %s failed", request.url.path)
            return error_response(500, f"{type(exc).__name__}: {exc}", shape=error_body)
        return body if isinstance(body, Response) else JSONResponse(body)

    return handle


def limit(params: Params, default: int, maximum: int, low: int = 0) -> int:
    """``limit``: at least ``low`` (else 400); above ``maximum`` it is clamped, as the dashboard expects."""
    value = params.integer("limit", default=default, low=low, clamp=maximum)
    return default if value is None else value


def unless_all(value: str | None) -> str | None:
    """A filter value, with ``all``/``*``/``any`` meaning no filter."""
    return None if value is None or value.lower() in _ALL else value


def source_filter(params: Params, *names: str) -> str | None:
    """A component filter (``FL_SERVER`` or our ``fl_server``; ``all`` means none) as the stored source name."""
    value = unless_all(params.text(*names))
    return None if value is None else source_name(value)


def listing(params: Params, *names: str) -> list[str] | None:
    """A comma-separated filter (``all`` means none)."""
    raw = unless_all(params.text(*names))
    items = [item.strip() for item in raw.split(",") if item.strip()] if raw else []
    return items or None


def plain(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``mapping`` as a plain dict (record fields may be read-only mappings)."""
    return dict(mapping) if mapping else {}


def metric_data(metric: Metric) -> dict[str, Any]:
    """Upstream's ``data`` for a metric: its fields, then its tags, then ``timestamp`` (ISO) and ``source_component``
    if no field or tag has that name.

    Fields come first because the Metrics Explorer takes the first numeric value of ``data`` as the value; it keeps
    a row for a component filter only when ``data.source_component`` equals it (``metrics_explorer.query_metrics``).
    """
    data = plain(metric.fields)
    for key, value in metric.tags.items():
        data.setdefault(key, value)
    data.setdefault("timestamp", iso(metric.time_ns))
    data.setdefault("source_component", component_name(metric.source))
    return data


def metric_item(metric: Metric) -> dict[str, Any]:
    """One ``/api/metrics`` row: ``timestamp``, ``metric_type``, ``data``, ``source_component`` and the axes."""
    return {
        "timestamp": iso(metric.time_ns),
        "metric_type": metric.name,
        "data": metric_data(metric),
        "source_component": component_name(metric.source),
        "tags": plain(metric.tags),
        "experiment": metric.experiment,
        "round": metric.round,
    }


def event_item(event: Event) -> dict[str, Any]:
    """One ``/api/events`` row with every spelling upstream used (``level``/``event_level``...).

    ``id`` is our increasing integer (the ``since_id`` cursor); ``event_id`` is the source's own id of the event
    (the FL server's uuid, the policy engine's id) so a row can be matched to the source's log, and our id as text
    for the events we made ourselves.
    """
    component = component_name(event.source)
    own_id = event.origin_id
    if own_id is None and event.id is not None:
        own_id = str(event.id)
    return {
        "id": event.id,
        "event_id": own_id,
        "timestamp": iso(event.time_ns),
        "source_component": component,
        "component": component,
        "event_type": event.type,
        "type": event.type,
        "level": event.level,
        "event_level": event.level,
        "message": event.message,
        "details": plain(event.details),
        "experiment": event.experiment,
        "round": event.round,
    }
