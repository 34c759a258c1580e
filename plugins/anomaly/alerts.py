"""Building the ``ANOMALY_DETECTED`` event: its level, message and details (the shape dashboards read)."""

from __future__ import annotations

import math

import attrs
from flcollector import Event, Metric

from .rules import Finding

#: metric-name prefixes whose anomalies are network alerts (the WebSocket's ``network_alert`` messages);
#: ``network`` covers the sdn monitor's summary metric ``network`` and any ``network_*``
NETWORK_PREFIXES = ("probe_", "sdn_", "net_", "network")


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


def anomaly_event(
    record: Metric, field: str, value: float, baseline: Baseline, findings: list[Finding], detector: str
) -> Event:
    """Return the ``ANOMALY_DETECTED`` event for one sample; ``findings`` are the rules that newly fired, in order."""
    mean, std, z, samples = baseline.mean, baseline.std, baseline.z, baseline.samples
    first = findings[0]
    severe = any(f.severe for f in findings)
    kind = category(record.name)
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
        "alert_type": f"{kind}_{field}_{first.rule}",
        "severity": "high" if severe else "medium",
        "samples": samples,
        "detector": detector,
    }
    against = f"mean {mean:.4g}" if stats_known else "no baseline yet"
    zs = f", z {z:+.1f}" if z is not None else ""
    return Event(
        type="ANOMALY_DETECTED",
        level="ERROR" if severe else "WARNING",
        message=f"{record.name}.{field} = {value:.4g} ({first.rule} rule, {against}{zs})",
        time_ns=record.time_ns,
        source=record.source,
        details=details,
        experiment=record.experiment,
        round=record.round,
    )
