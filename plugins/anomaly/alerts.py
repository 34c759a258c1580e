"""Building the ``ANOMALY_DETECTED`` event: its level, message and details (the shape dashboards read).

The details carry the alert in the spec's shape (``spec/collector-service.md``, "Anomaly Detection"): ``alert_type``,
``severity``, ``current_value``, ``baseline`` and/or ``expected_range``, ``timestamp`` (epoch seconds). The spec's own
alerts keep its names and severities: ``fl_accuracy_drop`` (high), ``network_latency_spike`` (high) and
``client_disconnect_spike`` (medium, participation below 70 %); any other rule is ``<category>_<field>_<rule>``,
``high`` when severe, else ``medium``.
"""

from __future__ import annotations

import math

import attrs
from flcollector import Event, Metric

from .rules import Finding

#: metric-name prefixes whose anomalies are network alerts (the WebSocket's ``network_alert`` messages);
#: ``network`` covers the sdn monitor's summary metric ``network`` and any ``network_*``
NETWORK_PREFIXES = ("probe_", "sdn_", "net_", "network")
#: The derived field of an FL round's participation (clients that succeeded / clients selected).
PARTICIPATION = "participation"
#: The spec's alert types and the severity the spec assigns each.
SPEC_SEVERITY = {"fl_accuracy_drop": "high", "network_latency_spike": "high", "client_disconnect_spike": "medium"}
LATENCY_WORDS = ("latency", "rtt")


@attrs.frozen
class Baseline:
    """What a sample was compared with: the window's mean and std (NaN while empty), its z, the window size."""

    mean: float
    std: float
    z: float | None
    samples: int


def category(metric: str) -> str:
    """Return ``fl``, ``network``, ``policy`` or ``system`` for a metric name (for dashboards and the WS).

    >>> [category(n) for n in ("fl_round", "sdn_port", "network", "probe_tcp", "policy_trust", "system_cpu")]
    ['fl', 'network', 'network', 'network', 'policy', 'system']
    """
    if metric.startswith("fl_"):
        return "fl"
    if metric.startswith(NETWORK_PREFIXES):
        return "network"
    return "policy" if metric.startswith("policy_") else "system"


def alert_type(kind: str, field: str, rule: str) -> str:
    """The spec's name for the alert (``fl_accuracy_drop``, ``network_latency_spike``, ``client_disconnect_spike``),
    else ``<category>_<field>_<rule>``.

    >>> alert_type("network", "rtt_avg_ms", "spike"), alert_type("fl", "accuracy", "drop")
    ('network_latency_spike', 'fl_accuracy_drop')
    """
    if rule == "spike" and kind == "network" and any(word in field for word in LATENCY_WORDS):
        return "network_latency_spike"
    if rule == "below" and field == PARTICIPATION:
        return "client_disconnect_spike"
    return f"{kind}_{field}_{rule}"


def expected_range(finding: Finding, value: float, baseline: Baseline) -> list[float | None] | None:
    """The range the sample was expected in, by the rule that fired (``None`` for an open end)."""
    if finding.rule == "drop" and finding.reference is not None:  # the spec: the earlier level, +- half the drop
        return [finding.reference - finding.threshold / 2, finding.reference + finding.threshold / 2]
    if finding.rule == "above":
        return [None, finding.threshold]
    if finding.rule == "below":
        return [finding.threshold, None]
    if finding.rule == "spike" and not math.isnan(baseline.mean):
        return [None, baseline.mean + finding.threshold]
    if finding.rule == "zscore" and baseline.z:
        spread = finding.threshold * abs((value - baseline.mean) / baseline.z)  # z counts in the (floored) std
        return [baseline.mean - spread, baseline.mean + spread]
    return None


def anomaly_event(
    record: Metric, field: str, value: float, baseline: Baseline, findings: list[Finding], detector: str
) -> Event:
    """Return the ``ANOMALY_DETECTED`` event for one sample; ``findings`` are the rules that newly fired, in order."""
    mean, std, z, samples = baseline.mean, baseline.std, baseline.z, baseline.samples
    first = findings[0]
    kind = category(record.name)
    kind_of_alert = alert_type(kind, field, first.rule)
    severity = SPEC_SEVERITY.get(kind_of_alert) or ("high" if any(f.severe for f in findings) else "medium")
    stats_known = not math.isnan(mean)
    details = {
        "metric": record.name,
        "field": field,
        "tags": dict(record.tags),
        "value": value,
        "mean": mean if stats_known else None,
        "std": std if stats_known else None,
        "z": z,
        "rule": first.rule,
        "rules": [f.rule for f in findings],
        "threshold": first.threshold,
        "category": kind,
        "alert_type": kind_of_alert,
        "severity": severity,
        "current_value": value,
        "baseline": mean if stats_known else None,
        "expected_range": expected_range(first, value, baseline),
        "timestamp": record.time_ns / 1e9,
        "samples": samples,
        "detector": detector,
    }
    against = f"mean {mean:.4g}" if stats_known else "no baseline yet"
    zs = f", z {z:+.1f}" if z is not None else ""
    return Event(
        type="ANOMALY_DETECTED",
        level="ERROR" if severity == "high" else "WARNING",
        message=f"{record.name}.{field} = {value:.4g} ({first.rule} rule, {against}{zs})",
        time_ns=record.time_ns,
        source=record.source,
        details=details,
        experiment=record.experiment,
        round=record.round,
    )
