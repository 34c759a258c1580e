"""Turning the FL server's JSON into records: ``fl_round``, ``fl_client``, ``fl_server`` metrics and FL events.

Times come from the server (a round's row timestamp, an event's timestamp), never from when we polled, so records
order by when things happened (upstream bug §5.2 #11). A row or event with the wrong shape raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from flcollector import Event, Metric, now_ns

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


def level_for(event_type: str, details: Mapping[str, Any]) -> str:
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
    """Return the Event for one FL server event; ``details`` is the original payload (with its ``event_id``)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("event_id"), str):
        raise ValueError(f"event without an event_id: {str(raw)[:120]}")
    event_type = raw.get("event_type") or raw.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ValueError(f"event {raw['event_id']} has no event_type")
    details = _dict(raw.get("details"))
    round_ = details.get("round")
    summary = orjson.dumps(details).decode()
    message = f"{event_type}" + (f" (round {round_})" if isinstance(round_, int) else "")
    message += f": {summary[:200]}{'...' if len(summary) > 200 else ''}"
    stamp = raw.get("timestamp")
    return Event(
        type=event_type,
        message=message,
        time_ns=time_ns_of(stamp) if stamp else now_ns(),
        source=SOURCE,
        level=level_for(event_type, details),
        details=raw,
        experiment=experiment,
        round=round_ if isinstance(round_, int) and not isinstance(round_, bool) else None,
    )


def round_number(row: Any) -> int:
    """Return a round row's number, or raise ``ValueError``."""
    number = row.get("round") if isinstance(row, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise ValueError(f"round row without an integer 'round': {str(row)[:120]}")
    return number


def round_records(row: dict[str, Any], experiment: str | None) -> list[Metric]:
    """Return the ``fl_round`` metric of one completed round row, plus one ``fl_client`` metric per client."""
    number, time_ns = round_number(row), time_ns_of(row.get("timestamp"))
    raw = _dict(row.get("raw_metrics"))
    fields: dict[str, Any] = {}
    for key in ("accuracy", "loss", "model_size_mb"):
        _put(fields, key, row.get(key))
    _put(fields, "training_duration_s", row.get("training_duration"))
    _put(fields, "aggregation_duration_s", raw.get("aggregation_duration"))
    _put(fields, "evaluation_duration_s", raw.get("evaluation_duration"))
    _put(fields, "total_duration_s", raw.get("total_round_duration"))
    phases = raw.get("phase_breakdown")
    for phase, seconds in phases.items() if isinstance(phases, dict) else ():
        _put(fields, f"phase_{phase}_s", seconds)
    _put(fields, "clients_selected", raw.get("clients_selected", row.get("clients")))
    _put(fields, "clients_succeeded", raw.get("successful_clients", row.get("clients")))
    _put(fields, "clients_failed", raw.get("failed_clients"))
    fields["status"] = str(row.get("status") or "complete")
    records = [
        Metric(name="fl_round", fields=fields, time_ns=time_ns, source=SOURCE, experiment=experiment, round=number)
    ]
    clients = raw.get("client_metrics")
    items = (
        clients.items()
        if isinstance(clients, dict)
        else ((c.get("client_id"), c) for c in clients if isinstance(c, dict))
        if isinstance(clients, list)
        else ()
    )
    for client_id, values in items:
        if not client_id or not isinstance(values, dict):
            continue
        client_fields: dict[str, Any] = {}
        for key in ("accuracy", "loss", "num_examples"):
            _put(client_fields, key, values.get(key))
        _put(client_fields, "training_time_s", values.get("training_time"))
        if client_fields:
            records.append(
                Metric(
                    name="fl_client",
                    fields=client_fields,
                    time_ns=time_ns,
                    tags={"client_id": str(client_id)},
                    source=SOURCE,
                    experiment=experiment,
                    round=number,
                )
            )
    return records


def training_state(status: Mapping[str, Any], max_rounds: int | None) -> str:
    """One word for the training status: stopped_by_policy, paused, complete, active, or the server's status."""
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
    _put(fields, "aggregate_fit_count", metrics.get("aggregate_fit_count"))
    _put(fields, "model_size_mb", metrics.get("model_size_mb"))
    number = _number(current)
    return Metric(
        name="fl_server",
        fields=fields,
        source=SOURCE,
        experiment=experiment,
        round=int(number) if number is not None else None,
    )
