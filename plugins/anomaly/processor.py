"""The ``anomaly`` processor: per-series rolling windows, a z-score test and the spec's threshold rules.

It runs on every batch, so the path for a record nobody watches is one ``isinstance`` and one dict lookup. A
watched sample is compared with the window of samples *before* it, then added to the window. Alerts are
edge-triggered: a series that stays anomalous yields one ``ANOMALY_DETECTED`` event per episode and is re-armed
when the condition clears, so a stuck link does not flood the event log.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs

from flcollector import Event, Metric, Processor, Record

from .rules import RULE_ORDER, FieldRules, Finding, check_above, check_below, check_drop, check_spike, check_zscore
from .window import SeriesWindow

DEFAULT_WATCH = [
    "fl_round.accuracy", "fl_round.loss", "probe_tcp.rtt_avg_ms", "probe_tcp.loss_percent",
    "sdn_port.rx_bps", "sdn_port.tx_bps", "system_cpu.usage_percent",
]
#: metric-name prefixes whose anomalies are network alerts (the WebSocket's ``network_alert`` messages)
NETWORK_PREFIXES = ("probe_", "sdn_", "net_", "network_")
SeriesKey = tuple[str, str, str | None, tuple[tuple[str, str], ...]]


def _positive(_inst: Any, attr: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attr.name} must be greater than 0, got {value!r}")


def category(metric: str) -> str:
    """Return ``fl``, ``network``, ``policy`` or ``system`` for a metric name (for dashboards and the WS)."""
    if metric.startswith("fl_"):
        return "fl"
    if metric.startswith(NETWORK_PREFIXES):
        return "network"
    return "policy" if metric.startswith("policy_") else "system"


class AnomalyProcessor(Processor):
    """Flags samples that leave their series' recent range, or cross a configured limit."""

    name: ClassVar[str] = "anomaly"

    @attrs.define
    class Options:
        """Options of ``[[processors.anomaly]]``; keys of the rule tables are ``"metric.field"`` names."""

        watch: list[str] = attrs.field(factory=lambda: list(DEFAULT_WATCH))  # z-score watched series
        window: int = attrs.field(default=60, validator=attrs.validators.ge(2))  # samples kept per series
        z_threshold: float = attrs.field(default=3.0, validator=_positive)
        severe_z: float = attrs.field(default=6.0, validator=_positive)  # from here the event is an ERROR
        min_samples: int = attrs.field(default=10, validator=attrs.validators.ge(2))  # before z/spike apply
        min_std_ratio: float = 0.001  # std floor relative to |mean|, so a flat series ignores tiny wiggles
        above: dict[str, float] = attrs.field(
            factory=lambda: {"probe_tcp.loss_percent": 5.0, "system_cpu.usage_percent": 95.0})
        below: dict[str, float] = attrs.field(factory=dict)
        spike: dict[str, float] = attrs.field(factory=lambda: {"probe_tcp.rtt_avg_ms": 100.0})
        drop: dict[str, float] = attrs.field(factory=lambda: {"fl_round.accuracy": 0.1})
        drop_span: int = attrs.field(default=5, validator=attrs.validators.ge(1))
        max_series: int = attrs.field(default=10_000, validator=attrs.validators.ge(1))

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self._rules = self._build_rules(options)
        self._series: dict[SeriesKey, SeriesWindow] = {}

    @staticmethod
    def _build_rules(o: Any) -> dict[str, tuple[FieldRules, ...]]:
        """Index the options by metric name: ``{"fl_round": (FieldRules("accuracy", ...), ...)}``."""
        keys = list(dict.fromkeys([*o.watch, *o.above, *o.below, *o.spike, *o.drop]))
        by_metric: dict[str, list[FieldRules]] = {}
        for key in keys:
            metric, sep, field = key.rpartition(".")
            if not sep or not metric or not field:
                raise ValueError(f"anomaly: {key!r} is not a 'metric.field' name")
            rules = FieldRules(field, key in o.watch, o.above.get(key), o.below.get(key), o.spike.get(key),
                               o.drop.get(key))
            by_metric.setdefault(metric, []).append(rules)
        return {metric: tuple(rules) for metric, rules in by_metric.items()}

    def process(self, batch: list[Record]) -> list[Record]:
        """Return ``batch`` plus one ``ANOMALY_DETECTED`` event per newly anomalous sample."""
        rules_by_metric = self._rules
        alerts: list[Record] = []
        for record in batch:
            if not isinstance(record, Metric):
                continue
            rules = rules_by_metric.get(record.name)
            if rules is None:
                continue
            for field_rules in rules:
                value = record.fields.get(field_rules.field)
                if value is None or isinstance(value, bool | str) or not math.isfinite(value):
                    continue
                alert = self._check(record, field_rules, float(value))
                if alert is not None:
                    alerts.append(alert)
        if not alerts:
            return batch
        self.runtime.stats.count("anomalies", len(alerts))
        return [*batch, *alerts]

    def _window(self, record: Metric, field: str) -> SeriesWindow | None:
        key = (record.name, field, record.experiment, tuple(sorted(record.tags.items())))
        window = self._series.get(key)
        if window is None:
            if len(self._series) >= self.options.max_series:
                self.runtime.stats.count("series_untracked")  # a tag-cardinality explosion must not eat memory
                return None
            window = self._series[key] = SeriesWindow(self.options.window)
            self.runtime.stats.extra["series"] = len(self._series)
        return window

    def _check(self, record: Metric, rules: FieldRules, value: float) -> Event | None:
        """Apply ``rules`` to one sample, add it to its window, and return an event if a rule newly fired."""
        window = self._window(record, rules.field)
        if window is None:
            return None
        o = self.options
        mean, std = window.mean_std()
        z: float | None = None
        if len(window) >= o.min_samples:
            floor = max(std, o.min_std_ratio * abs(mean), 1e-12)
            z = (value - mean) / floor
        found: list[Finding | None] = [
            check_above(value, rules.above) if rules.above is not None else None,
            check_below(value, rules.below) if rules.below is not None else None,
            check_spike(value, mean, rules.spike) if rules.spike is not None and z is not None else None,
            check_drop(window, value, o.drop_span, rules.drop) if rules.drop is not None else None,
            check_zscore(z, o.z_threshold, o.severe_z) if rules.zscore else None,
        ]
        window.push(value)
        fired = {f.rule: f for f in found if f is not None}
        new = [fired[r] for r in RULE_ORDER if r in fired and r not in window.alerting]
        window.alerting = set(fired)  # a rule that stopped firing is re-armed
        if not new:
            return None
        return self._event(record, rules.field, value, mean, std, z, new)

    def _event(self, record: Metric, field: str, value: float, mean: float, std: float, z: float | None,
               findings: list[Finding]) -> Event:
        first = findings[0]
        severe = any(f.severe for f in findings)
        kind = category(record.name)
        stats_known = not math.isnan(mean)
        details = {
            "metric": record.name, "field": field, "tags": dict(record.tags), "value": value,
            "mean": mean if stats_known else None, "std": std if stats_known else None, "z": z,
            "rule": first.rule, "rules": [f.rule for f in findings], "threshold": first.threshold,
            "category": kind, "alert_type": f"{kind}_{field}_{first.rule}", "severity": "high" if severe else "medium",
            "samples": len(self._series.get(self._key(record, field), ())), "detector": self.runtime.instance,
        }
        baseline = f"mean {mean:.4g}" if stats_known else "no baseline yet"
        zs = f", z {z:+.1f}" if z is not None else ""
        return Event(
            type="ANOMALY_DETECTED", level="ERROR" if severe else "WARNING",
            message=f"{record.name}.{field} = {value:.4g} ({first.rule} rule, {baseline}{zs})",
            time_ns=record.time_ns, source=record.source, details=details,
            experiment=record.experiment, round=record.round,
        )

    @staticmethod
    def _key(record: Metric, field: str) -> SeriesKey:
        return (record.name, field, record.experiment, tuple(sorted(record.tags.items())))
