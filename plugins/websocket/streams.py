"""Which WebSocket streams a record belongs to, and the message that carries it.

Streams: ``fl_training``, ``network_performance``, ``policy_events``, ``system`` and ``alerts`` (plus ``all``).
A record is classified by name (metrics), type and source (events) and level (``alerts`` takes every WARNING or
worse event, and anomaly/alert events). Anything unclassified goes to ``system``.
"""

from __future__ import annotations

from typing import Any

from flcollector import Event, Metric, Record
from flcollector.plugins.server.jsonio import dumps, iso, record_json

STREAMS: tuple[str, ...] = ("fl_training", "network_performance", "policy_events", "system", "alerts")
ALL = "all"

FL_PREFIXES = ("fl_", "fl.")
NETWORK_PREFIXES = ("network", "sdn_", "sdn.", "probe_", "probe.", "net_", "link_", "port_", "flow_")
POLICY_PREFIXES = ("policy",)
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
        if name.startswith(FL_PREFIXES):
            return "fl_metric_update", frozenset({"fl_training"})
        if name.startswith(NETWORK_PREFIXES):
            return "network_update", frozenset({"network_performance"})
        if name.startswith(POLICY_PREFIXES):
            return "policy_update", frozenset({"policy_events"})
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


def message(record: Record, *, backfill: bool = False) -> tuple[str, frozenset[str]]:
    """Return ``(JSON text, streams)``: ``{"type", "timestamp", "stream", "data"}`` serialised once for all clients."""
    kind, streams = classify(record)
    body: dict[str, Any] = {
        "type": kind,
        "timestamp": iso(record.time_ns),
        "stream": min(streams - {"alerts"} or streams),
        "data": record_json(record),
    }
    if backfill:
        body["backfill"] = True
    return dumps(body).decode(), streams


def control(kind: str, **data: Any) -> str:
    """Return a control message (``subscribed``, ``error``, ``dropped``, ``ping``...) as JSON text."""
    from flcollector import now_ns

    return dumps({"type": kind, "timestamp": iso(now_ns()), **data}).decode()
