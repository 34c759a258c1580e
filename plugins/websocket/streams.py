"""The WebSocket streams, defined once: which stream a record belongs to, and the message that carries it.

Streams: ``fl_training``, ``network_performance``, ``policy_events``, ``system`` and ``alerts`` (plus ``all``).
A metric is classified by its name (:data:`METRIC_PREFIXES`, also what backfill asks the store for), an event by
its type and source, and ``alerts`` takes every WARNING or worse event, and anomaly/alert events. Anything
unclassified goes to ``system``.
"""

from __future__ import annotations

from typing import Any, Literal

from flcollector import Event, Metric, Record, now_ns
from flcollector.plugins.server.jsonio import dumps, format_time, record_json

Stream = Literal["fl_training", "network_performance", "policy_events", "system", "alerts"]
STREAMS: tuple[Stream, ...] = ("fl_training", "network_performance", "policy_events", "system", "alerts")
ALL = "all"

#: The metric names of each stream, by prefix (a metric matching none is ``system``), in classification order.
METRIC_PREFIXES: dict[Stream, tuple[str, ...]] = {
    "fl_training": ("fl_", "fl."),
    "network_performance": ("network", "sdn_", "sdn.", "probe_", "probe.", "net_", "link_", "port_", "flow_"),
    "policy_events": ("policy",),
}
#: The message type of a metric of each stream (``fl_round`` has its own: ``fl_round_update``).
METRIC_MESSAGES: dict[Stream, str] = {
    "fl_training": "fl_metric_update",
    "network_performance": "network_update",
    "policy_events": "policy_update",
}
FL_SOURCES = ("fl_server", "fl_client", "fl")
NETWORK_SOURCES = ("sdn_controller", "network", "probe", "sdn", "gns3")
POLICY_SOURCES = ("policy_engine", "policy")
FL_EVENT_PREFIXES = ("ROUND", "TRAINING", "FL_", "CLIENT", "MODEL", "CONFIG_LOADED", "SERVER_")
NETWORK_EVENT_PREFIXES = ("LINK", "TOPOLOGY", "NETWORK", "SWITCH", "PORT", "FLOW", "HOST_", "PROBE")
SEVERE = frozenset({"WARNING", "ERROR", "CRITICAL"})


def _source_in(source: str, sources: tuple[str, ...]) -> bool:
    return source in sources or source.startswith(tuple(f"{s}_" for s in sources))


def classify(record: Record) -> tuple[str, frozenset[str]]:
    """Return ``(message type, streams)`` for one record."""
    if isinstance(record, Metric):
        name = record.name
        if name == "fl_round":
            return "fl_round_update", frozenset({"fl_training"})
        for stream, prefixes in METRIC_PREFIXES.items():
            if name.startswith(prefixes):
                return METRIC_MESSAGES[stream], frozenset({stream})
        return "system_update", frozenset({"system"})
    return _classify_event(record)


def _classify_event(event: Event) -> tuple[str, frozenset[str]]:
    severe = event.level in SEVERE or "ANOMALY" in event.type or "ALERT" in event.type
    alerts = {"alerts"} if severe else set()
    source, kind = event.source, event.type.upper()
    if _source_in(source, POLICY_SOURCES) or kind.startswith("POLICY"):
        return "policy_event", frozenset({"policy_events", *alerts})
    if _source_in(source, NETWORK_SOURCES) or kind.startswith(NETWORK_EVENT_PREFIXES):
        return ("network_alert" if severe else "network_event"), frozenset({"network_performance", *alerts})
    if _source_in(source, FL_SOURCES) or kind.startswith(FL_EVENT_PREFIXES):
        return "fl_event", frozenset({"fl_training", *alerts})
    if severe:
        return "alert", frozenset({"alerts", "system"})
    return "system_event", frozenset({"system"})


#: The severity of an alert that is not an anomaly (a WARNING-or-worse event), in the spec's words.
SEVERITY = {"WARNING": "medium", "ERROR": "high", "CRITICAL": "critical"}
#: The keys of the spec's alert that the anomaly processor writes into its events' details.
ALERT_KEYS = ("alert_type", "severity", "current_value", "baseline", "expected_range", "threshold", "timestamp")


def spec_alert(event: Event) -> dict[str, Any]:
    """The alert as the spec's client reads it (``showNetworkAlert(data.alert)``): ``type``/``alert_type``,
    ``severity``, ``message``, ``current_value``, ``baseline``, ``expected_range``, ``timestamp`` (epoch seconds).

    An anomaly's details already hold it; another WARNING-or-worse event (``LINK_REMOVED``...) becomes one named after
    its type, with the severity of its level and no measured value.
    """
    details = event.details
    alert: dict[str, Any] = {key: None for key in ALERT_KEYS}
    alert.update(
        alert_type=event.type.lower(),
        severity=SEVERITY.get(event.level, "low"),
        timestamp=event.time_ns / 1e9,
    )
    if isinstance(details.get("alert_type"), str):
        alert.update({key: details[key] for key in ALERT_KEYS if key in details})
    alert.update(type=alert["alert_type"], message=event.message, source=event.source, event_id=event.id)
    return alert


def _spec_fields(kind: str, streams: frozenset[str], record: Record) -> dict[str, Any]:
    """What the spec's client reads beside ``data``: ``metrics`` of an ``fl_round_update``, ``alert`` of every
    message on the ``alerts`` stream (``network_alert``, ``alert``, and an FL or policy event that is an alert),
    ``event`` of a ``policy_event`` (``spec/collector-service.md``, "WebSocket Connection")."""
    if isinstance(record, Metric):
        if kind == "fl_round_update":
            return {"metrics": {"round": record.round, "experiment_id": record.experiment, **record.fields}}
        return {}
    found: dict[str, Any] = {"alert": spec_alert(record)} if "alerts" in streams else {}
    if kind == "policy_event":
        found["event"] = record_json(record)
    return found


def message(record: Record, *, backfill: bool = False) -> tuple[str, frozenset[str]]:
    """Return ``(JSON text, streams)``: ``{"type", "timestamp", "stream", "data"}`` serialised once for all clients,
    plus the key the spec's client reads for the type (``metrics``, ``alert`` or ``event``)."""
    kind, streams = classify(record)
    body: dict[str, Any] = {
        "type": kind,
        "timestamp": format_time(record.time_ns),
        "stream": min(streams - {"alerts"} or streams),
        "data": record_json(record),
        **_spec_fields(kind, streams, record),
    }
    if backfill:
        body["backfill"] = True
    return dumps(body).decode(), streams


def control(kind: str, **data: Any) -> str:
    """Return a control message (``welcome``, ``subscribed``, ``error``, ``dropped``, ``ping``...) as JSON text."""
    return dumps({"type": kind, "timestamp": format_time(now_ns()), **data}).decode()
