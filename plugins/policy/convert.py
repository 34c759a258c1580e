"""Turn the policy engine's answers (reference §2.5 shapes) into records.

Pure functions, so the mapping is tested without a server. Source timestamps (epoch seconds) become the records'
``time_ns``: an event says when the engine decided, not when we polled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flcollector import Event, Metric, now_ns, source_name
from flcollector.records import Level

SOURCE = "policy_engine"
_ALLOW_WORDS = frozenset({"allow", "allowed", "permit", "permitted", "accept", "true"})
_WARNING_TYPES = frozenset({"POLICY_VIOLATION", "ACCESS_DENIED", "UNAUTHORIZED"})


def epoch_ns(value: Any, default: int | None = None) -> int:
    """Return epoch seconds (number or numeric string) as integer nanoseconds, else ``default`` or now."""
    try:
        return int(float(value) * 1e9)
    except (TypeError, ValueError):
        return default if default is not None else now_ns()


def decision_id(decision: Mapping[str, Any]) -> str:
    """Return the key that tells decisions apart: the engine's ``id`` with the decision's ``timestamp``.

    The engine's ids (``decision_<ms>_<1000-9999>``) repeat when a check evaluates several policies, or several checks
    fall in one millisecond; a decision's own timestamp does not change when it is served again.
    """
    ident = decision.get("id") or decision.get("request_id")
    return f"{ident}@{decision.get('timestamp')!r}:{decision.get('policy_id')}"


def decision_time(decision: Mapping[str, Any]) -> float:
    """Return a decision's epoch timestamp, 0.0 when it has none (it then sorts first and is still stored)."""
    try:
        return float(decision.get("timestamp") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def is_allowed(decision: Mapping[str, Any]) -> bool:
    """Return whether a decision allowed the request (``result``, else the ``decision`` word)."""
    result = decision.get("result")
    if isinstance(result, bool):
        return result
    return str(decision.get("decision", "")).strip().lower() in _ALLOW_WORDS


def decision_event(decision: Mapping[str, Any]) -> Event:
    """Return a ``POLICY_DECISION`` event: INFO when allowed, WARNING when denied; details = the decision."""
    allowed = is_allowed(decision)
    who = decision.get("policy_name") or decision.get("policy_id") or "policy"
    verdict = "allowed" if allowed else "denied"
    message = f"{who}: {verdict} {decision.get('component', 'unknown')}"
    if decision.get("reason"):
        message += f" ({decision['reason']})"
    given = decision.get("id")
    return Event(
        type="POLICY_DECISION",
        message=message,
        time_ns=epoch_ns(decision.get("timestamp")),
        source=SOURCE,
        level="INFO" if allowed else "WARNING",
        details=dict(decision),
        origin_id=str(given) if given is not None else None,
    )


def engine_event_level(event: Mapping[str, Any]) -> Level:
    """Return the level of an engine event, by the upstream rules (denials and violations are warnings).

    A ``POLICY_EVAL_RESULT`` carries the check's result under ``result`` (``allowed`` inside it), unless the engine
    cut the details down to a ``summary``: then the level cannot tell a denial.
    """
    kind = str(event.get("type", "")).upper()
    raw = event.get("details")
    details: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if any(word in kind for word in ("ERROR", "FAIL", "EXCEPTION")):
        return "ERROR"
    if "WARN" in kind or kind in _WARNING_TYPES:
        return "WARNING"
    nested = details.get("result")
    verdict = nested.get("allowed") if isinstance(nested, Mapping) else details.get("allowed", nested)
    if ("DECISION" in kind or "EVAL_RESULT" in kind) and verdict is False:
        return "WARNING"
    return "INFO"


def engine_event(event: Mapping[str, Any]) -> Event:
    """Return an engine ``/events`` item as an Event of the same type: its ``id`` as ``origin_id``, its ``source``
    component through :func:`~flcollector.source_name`, its details as given."""
    raw_details = event.get("details")
    details = dict(raw_details) if isinstance(raw_details, Mapping) else {"value": raw_details}
    kind = str(event.get("type") or "POLICY_ENGINE_EVENT")
    component = event.get("source")
    return Event(
        type=kind,
        message=f"policy engine: {kind}",
        time_ns=epoch_ns(event.get("timestamp")),
        source=source_name(component) if isinstance(component, str) and component else SOURCE,
        level=engine_event_level(event),
        details=details,
        origin_id=str(event["id"]),
    )


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def policy_count_fields(metrics: Mapping[str, Any], health: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the ``policy_count`` fields: total, enabled/active, version, and counts by type when given."""
    fields: dict[str, Any] = {}
    for key, name in (("policy_count", "total"), ("enabled_policy_count", "enabled")):
        if (value := _number(metrics.get(key))) is not None:
            fields[name] = value
    if "enabled" in fields:
        fields["active"] = fields["enabled"]
    version = metrics.get("policy_version", (health or {}).get("version"))
    if _number(version) is not None:
        fields["policy_version"] = version
    for key in ("policy_history_count", "history_event_count", "function_count", "uptime_seconds"):
        if (value := _number(metrics.get(key))) is not None:
            fields[key] = value
    by_type = metrics.get("policies_by_type", metrics.get("policy_types"))
    if isinstance(by_type, Mapping):
        fields.update({f"type_{k}": v for k, v in by_type.items() if _number(v) is not None})
    elif isinstance(by_type, list):  # the legacy route lists the policy types checked so far
        fields["checked_types_count"] = len(by_type)
    return fields


def decision_count_fields(metrics: Mapping[str, Any] | None, own: Mapping[str, int]) -> dict[str, Any]:
    """Return the ``decision_count`` fields: the engine's cumulative counters, else the monitor's own counts.

    ``own`` holds ``allowed``/``denied`` seen by this monitor since start and ``new_allowed``/``new_denied`` this
    poll.
    """
    metrics = metrics or {}
    allowed = _number(metrics.get("policy_checks_allowed"))
    denied = _number(metrics.get("policy_checks_denied"))
    if allowed is None or denied is None:
        allowed, denied, counted_by = own["allowed"], own["denied"], "collector"
    else:
        counted_by = "engine"
    total = _number(metrics.get("policy_checks_total"))
    total = allowed + denied if total is None else total
    fields: dict[str, Any] = {"allowed": allowed, "denied": denied, "total": total, "counted_by": counted_by}
    fields["denial_rate"] = denied / total if total else 0.0
    fields["new_allowed"], fields["new_denied"] = own["new_allowed"], own["new_denied"]
    fields["new_total"] = own["new_allowed"] + own["new_denied"]
    for key in (
        "decisions_last_hour_total",
        "decisions_last_hour_allowed",
        "decisions_last_hour_denied",
        "avg_decision_time_ms",
        "decisions_history_count",
    ):
        if (value := _number(metrics.get(key))) is not None:
            fields[key] = value
    return fields


def latest_hourly(points: list[Any], metric_type: str) -> Mapping[str, Any] | None:
    """Return the newest ``/api/v1/policy_metrics`` point of ``metric_type``, or None."""
    typed = [p for p in points if isinstance(p, Mapping) and p.get("metric_type") == metric_type]
    return max(typed, key=lambda p: _number(p.get("timestamp")) or 0, default=None)


def compliance_metrics(metrics: Mapping[str, Any], decisions: Mapping[str, Any], time_ns: int) -> list[Metric]:
    """Return ``policy_compliance`` (ratio of allowed checks, violations, any compliance/trust figures) and one
    ``policy_trust`` metric per client when the engine reports ``trust_scores``."""
    fields: dict[str, Any] = {}
    if decisions.get("total"):
        fields["compliance_ratio"] = decisions["allowed"] / decisions["total"]
        fields["violations"] = decisions["denied"]
    for key, value in metrics.items():
        if any(word in key for word in ("compliance", "trust", "violation")) and _number(value) is not None:
            fields[key] = value
    out = [Metric("policy_compliance", fields, time_ns, source=SOURCE)] if fields else []
    scores = metrics.get("trust_scores")
    if isinstance(scores, Mapping):
        for client, score in scores.items():
            if _number(score) is not None:
                out.append(Metric("policy_trust", {"score": score}, time_ns, {"client": str(client)}, SOURCE))
    return out
