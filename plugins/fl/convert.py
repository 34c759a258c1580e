"""Turning the FL server's JSON into records: ``fl_round`` and ``fl_server`` metrics and FL events.

The FL server exposes no per-client data with a client's identity (its events list the clients' training and
evaluation durations anonymously, in Flower's result order), so it yields no ``fl_client`` records: the spread of
those durations goes into ``fl_round``, and clients push their own ``fl_client`` records (see PLUGINS.md).

Times come from the server (a round's row timestamp, an event's timestamp), never from when we polled, so records
order by when things happened (upstream bug §5.2 #11). A row or event with the wrong shape raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from flcollector import Event, Level, Metric, now_ns, source_name

if TYPE_CHECKING:
    from .round_events import RoundFacts

SOURCE = "fl_server"
_WARNING_TYPES = {
    "CLIENT_DISCONNECTED",
    "ROUND_FAILED",
    "AGGREGATION_FAILED",
    "CLIENT_TIMEOUT",
    "SLOW_CLIENT",
    "LOW_ACCURACY",
}


def time_ns_of(value: Any) -> int:
    """Return nanoseconds for an epoch number or an ISO-8601 string (a naive one is taken as UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value) * 1e9)
    if isinstance(value, str) and value:
        try:
            return round(float(value) * 1e9)
        except ValueError:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp()) * 1_000_000_000 + parsed.microsecond * 1000
    raise ValueError(f"not a timestamp: {value!r}")


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _put(fields: dict[str, Any], key: str, value: Any) -> None:
    number = _number(value)
    if number is not None:
        fields[key] = number


def level_for(event_type: str, details: Mapping[str, Any]) -> Level:
    """The level rule of the upstream EventMonitor (reference §2.4), plus WARNING for policy denials."""
    upper = event_type.upper()
    if any(word in upper for word in ("ERROR", "FAIL", "EXCEPTION")):
        return "ERROR"
    if "WARN" in upper or upper in _WARNING_TYPES or "DENIED" in upper or "STOPPED_BY_POLICY" in upper:
        return "WARNING"
    accuracy = _number(details.get("accuracy"))
    if "ROUND_COMPLETED" in upper and accuracy is not None and accuracy < 0.3:
        return "WARNING"
    return "INFO"


def fl_event(raw: Any, experiment: str | None) -> Event:
    """Return the Event for one FL server event: its type, time, round and ``details`` as the server wrote them,
    its ``event_id`` as ``origin_id`` and its ``source_component`` (through :func:`~flcollector.source_name`)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("event_id"), str):
        raise ValueError(f"event without an event_id: {str(raw)[:120]}")
    event_type = raw.get("event_type") or raw.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ValueError(f"event {raw['event_id']} has no event_type")
    given = raw.get("details")
    details = given if isinstance(given, dict) else {} if given is None else {"value": given}
    round_ = details.get("round")
    summary = orjson.dumps(details).decode()
    message = f"{event_type}" + (f" (round {round_})" if isinstance(round_, int) else "")
    message += f": {summary[:200]}{'...' if len(summary) > 200 else ''}"
    stamp, component = raw.get("timestamp"), raw.get("source_component")
    return Event(
        type=event_type,
        message=message,
        time_ns=time_ns_of(stamp) if stamp else now_ns(),
        source=source_name(component) if isinstance(component, str) and component else SOURCE,
        level=level_for(event_type, details),
        details=details,
        experiment=experiment,
        round=round_ if isinstance(round_, int) and not isinstance(round_, bool) else None,
        origin_id=raw["event_id"],
    )


def round_number(row: Any) -> int:
    """Return a round row's number, or raise ``ValueError``."""
    number = row.get("round") if isinstance(row, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise ValueError(f"round row without an integer 'round': {str(row)[:120]}")
    return number


def _first(*values: Any) -> float | int | None:
    """The first value that is a number."""
    return next((number for number in map(_number, values) if number is not None), None)


def _difference(later: Any, earlier: Any, minus: Any = 0.0) -> float | None:
    """``later - earlier - minus`` when all are numbers (never below 0), else None."""
    a, b, c = _number(later), _number(earlier), _number(minus)
    return max(0.0, a - b - c) if a is not None and b is not None and c is not None else None


def round_fields(row: dict[str, Any], facts: RoundFacts) -> dict[str, Any]:
    """The ``fl_round`` fields of one row, completed from its round's events where the row lacks them.

    The real row (``round_data`` as persisted) has the model quality, ``training_duration`` (the whole round),
    ``clients`` (clients asked to evaluate) and ``raw_metrics`` with ``phase_durations``, ``client_timing_stats``
    and the ``*_start_time`` values; how many clients trained, failed and how long each phase took besides are only
    in the ``ROUND_STARTED``/``AGGREGATION_COMPLETED``/``EVALUATION_COMPLETED``/``ROUND_COMPLETED`` details.
    """
    raw = _dict(row.get("raw_metrics"))
    phases, timing = _dict(raw.get("phase_durations")), _dict(raw.get("client_timing_stats"))
    started, aggregated, evaluated = facts.started, facts.aggregated, facts.evaluated
    evaluations, asked = _number(raw.get("evaluation_results_count")), _number(row.get("clients"))
    unevaluated = asked - evaluations if asked is not None and evaluations is not None else None
    aggregation = _first(phases.get("aggregation"), aggregated.get("aggregation_duration"))
    fields: dict[str, Any] = {}
    values: dict[str, Any] = {
        "accuracy": row.get("accuracy"),
        "loss": row.get("loss"),
        "model_size_mb": row.get("model_size_mb"),
        "training_duration_s": row.get("training_duration"),
        "total_duration_s": _first(phases.get("total"), evaluated.get("total_round_duration")),
        "aggregation_duration_s": aggregation,
        "evaluation_duration_s": _first(phases.get("evaluation"), evaluated.get("evaluation_duration")),
        "config_duration_s": started.get("config_duration"),
        "fit_phase_s": _difference(raw.get("aggregation_start_time"), raw.get("round_start_time")),
        "evaluate_phase_s": _difference(
            raw.get("evaluation_start_time"), raw.get("aggregation_start_time"), aggregation
        ),
        "clients_selected": _first(started.get("selected_clients"), aggregated.get("total_clients"), asked),
        "clients_succeeded": _first(
            aggregated.get("successful_clients"), evaluated.get("successful_evaluations"), evaluations
        ),
        "clients_failed": _first(aggregated.get("failed_clients"), evaluated.get("failed_evaluations"), unevaluated),
        "evaluations_succeeded": _first(evaluated.get("successful_evaluations"), evaluations),
        "evaluations_failed": _first(evaluated.get("failed_evaluations"), unevaluated),
    }
    for phase, source, event in (
        ("training", _dict(timing.get("training")), aggregated),
        ("evaluation", _dict(timing.get("evaluation")), evaluated),
    ):
        for stat, word in (("avg", "average"), ("min", "min"), ("max", "max"), ("total", "total")):
            from_event = event.get(f"{word}_client_{phase}_time")
            values[f"client_{phase}_time_{stat}_s"] = _first(source.get(f"{word}_time"), from_event)
    for key, value in values.items():
        _put(fields, key, value)
    fields["status"] = str(row.get("status") or "complete")
    return fields


def round_records(row: dict[str, Any], experiment: str | None, facts: RoundFacts | None = None) -> list[Metric]:
    """The records of one completed round row: its ``fl_round`` metric, stamped with the row's (the server's) time,
    completed from ``facts`` (its round's events) where given."""
    from .round_events import RoundFacts

    metric = Metric(
        name="fl_round",
        fields=round_fields(row, facts if facts is not None else RoundFacts()),
        time_ns=time_ns_of(row.get("timestamp")),
        source=SOURCE,
        experiment=experiment,
        round=round_number(row),
    )
    return [metric]


def training_state(status: Mapping[str, Any], max_rounds: int | None) -> str:
    """One word for the training: stopped_by_policy, paused, complete, waiting_for_clients, active, or the server's
    status. The real ``/status`` never says "completed" (its global status stays "training", so it says "ready"):
    complete is the last round reached with no training active."""
    server_status = str(status.get("server_status") or "unknown")
    current = _number(status.get("current_round")) or 0
    if status.get("training_stopped_by_policy"):
        return "stopped_by_policy"
    if status.get("training_paused") or server_status == "paused":
        return "paused"
    if server_status in ("completed", "complete", "finished", "training_complete") or (
        max_rounds and current >= max_rounds and not status.get("training_active")
    ):
        return "complete"
    if server_status == "waiting_for_clients":  # the training loop runs, but Flower waits for clients
        return server_status
    if status.get("training_active"):
        return "active"
    return server_status


def server_metric(status: Mapping[str, Any], metrics: Mapping[str, Any], state: str, experiment: str | None) -> Metric:
    """Return the ``fl_server`` snapshot for one poll (status and latest model quality)."""
    last = _dict(metrics.get("last_round_metrics"))
    max_rounds = status.get("max_rounds", metrics.get("max_rounds"))
    current = status.get("current_round", metrics.get("current_round"))
    fields: dict[str, Any] = {
        "status": str(status.get("server_status") or metrics.get("server_status") or "unknown"),
        "state": state,
        "training_active": bool(status.get("training_active", metrics.get("training_active", False))),
        "training_complete": state == "complete",
        "training_paused": bool(status.get("training_paused", False)),
        "stopped_by_policy": bool(status.get("training_stopped_by_policy", False)),
    }
    _put(fields, "current_round", current)
    _put(fields, "max_rounds", max_rounds)
    _put(fields, "connected_clients", status.get("connected_clients", metrics.get("connected_clients")))
    _put(fields, "accuracy", metrics.get("last_round_accuracy", last.get("accuracy")))
    _put(fields, "loss", metrics.get("last_round_loss", last.get("loss")))
    _put(fields, "model_size_mb", metrics.get("model_size_mb"))
    number = _number(current)
    return Metric(
        name="fl_server",
        fields=fields,
        source=SOURCE,
        experiment=experiment,
        round=int(number) if number is not None else None,
    )
