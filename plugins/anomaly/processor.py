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
from flcollector import Event, Metric, Processor, Record, option_doc

from .alerts import PARTICIPATION, Baseline, anomaly_event
from .rules import FieldRules, Finding, check_above, check_below, check_drop, check_spike, zscore_finding
from .window import SeriesWindow

DEFAULT_WATCH = [
    "fl_round.accuracy",
    "fl_round.loss",
    "probe_tcp.rtt_avg_ms",
    "probe_tcp.loss_percent",
    "sdn_port.rx_bps",
    "sdn_port.tx_bps",
    "network.latency_avg_ms",
    "network.packet_loss_percent",
    "system_cpu.usage_percent",
]
SeriesKey = tuple[str, str, str | None, tuple[tuple[str, str], ...]]


def _positive(_inst: Any, attr: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attr.name} must be greater than 0, got {value!r}")


def _metric_fields(_inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validate that every key (of a list or a table) is a ``"metric.field"`` name."""
    for key in value:
        metric, sep, field = str(key).rpartition(".")
        if not sep or not metric or not field:
            raise ValueError(f"{attr.name}: {key!r} is not a 'metric.field' name, e.g. 'fl_round.accuracy'")


def _ratio(fields: Any, names: tuple[str, str]) -> float | None:
    """``fields[numerator] / fields[denominator]`` when both are numbers and the denominator is positive."""
    top, bottom = fields.get(names[0]), fields.get(names[1])
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (top, bottom))
    return top / bottom if numbers and bottom > 0 else None


def _two_names(_inst: Any, attr: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if len(value) != 2 or not all(isinstance(name, str) and name for name in value):
        raise ValueError(f"{attr.name} must be [numerator, denominator] field names, got {list(value)!r}")


class AnomalyProcessor(Processor):
    """Flags samples that leave their series' recent range, or cross a configured limit."""

    name: ClassVar[str] = "anomaly"

    @attrs.define
    class Options:
        """Options of ``[[processors.anomaly]]``; keys of the rule tables are ``"metric.field"`` names."""

        watch: list[str] = attrs.field(
            factory=lambda: list(DEFAULT_WATCH), validator=_metric_fields,
            metadata=option_doc(
                "`metric.field` series tested with the z-score (the rule tables below add their own keys to what is "
                "watched)",
            ),
        )
        window: int = attrs.field(default=60, validator=attrs.validators.ge(2), metadata=option_doc(
            "samples kept per series"))
        z_threshold: float = attrs.field(default=3.0, validator=_positive, metadata=option_doc(
            "`abs(value - mean) / std` that counts as anomalous"))
        severe_z: float = attrs.field(default=6.0, validator=_positive, metadata=option_doc(
            "from this z the event is `ERROR` instead of `WARNING`"))
        min_samples: int = attrs.field(default=10, validator=attrs.validators.ge(2), metadata=option_doc(
            "samples a series needs before the z-score and spike rules apply"))
        min_std_ratio: float = attrs.field(default=0.01, validator=attrs.validators.ge(0), metadata=option_doc(
            "floor of the std relative to `abs(mean)`: with `z_threshold` 3, a move under 3% of the level never "
            "trips the z-score, so a converged accuracy or a steady link rate does not alert on tiny wiggles"))
        above: dict[str, float] = attrs.field(
            validator=_metric_fields,
            factory=lambda: {
                "probe_tcp.loss_percent": 5.0,
                "network.packet_loss_percent": 5.0,
                "system_cpu.usage_percent": 95.0,
            },
            metadata=option_doc(
                "value above a limit (severe at twice the limit)",
            ),
        )
        below: dict[str, float] = attrs.field(factory=dict, validator=_metric_fields, metadata=option_doc(
            'value below a limit (severe at half the limit), e.g. `{"fl_round.clients_succeeded" = 2}`'))
        spike: dict[str, float] = attrs.field(
            validator=_metric_fields, factory=lambda: {"probe_tcp.rtt_avg_ms": 100.0, "network.latency_avg_ms": 100.0},
            metadata=option_doc(
                "value above the window mean by this much: the spec's 100 ms latency spike (severe at twice)",
            ),
        )
        drop: dict[str, float] = attrs.field(
            validator=_metric_fields, factory=lambda: {"fl_round.accuracy": 0.1},
            metadata=option_doc(
                "mean of the last `drop_span` samples this far below the mean of the `drop_span` before: the spec's "
                "accuracy drop (severe at twice)",
            ),
        )
        drop_span: int = attrs.field(default=5, validator=attrs.validators.ge(1), metadata=option_doc(
            "samples in each half of the drop comparison (the spec's 5 rounds)"))
        min_participation: float = attrs.field(
            default=0.7, validator=[attrs.validators.ge(0), attrs.validators.le(1)],
            metadata=option_doc(
                "the spec's client-disconnect rule: a round of `participation_metric` whose participation "
                "(`participation_fields[0] / participation_fields[1]`) is below this share is a "
                "`client_disconnect_spike`; `0` disables it (a `below` entry for `fl_round.participation` overrides "
                "the limit)",
            ),
        )
        participation_metric: str = attrs.field(default="fl_round", metadata=option_doc(
            "the metric of one FL round"))
        participation_fields: tuple[str, str] = attrs.field(
            default=("clients_succeeded", "clients_selected"), converter=tuple, validator=_two_names,
            metadata=option_doc("`[numerator, denominator]` of the participation (the `fl` monitor's fields)"),
        )
        max_series: int = attrs.field(default=10_000, validator=attrs.validators.ge(1), metadata=option_doc(
            "series tracked at most; samples of further series are counted as `series_untracked`"))

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self._rules = self._build_rules(options)
        self._series: dict[SeriesKey, SeriesWindow] = {}
        # hot-path copies of the options (attribute chains cost more than the arithmetic they feed)
        self._min_samples: int = options.min_samples
        self._min_std_ratio: float = options.min_std_ratio
        self._z_threshold: float = options.z_threshold
        self._severe_z: float = options.severe_z
        self._drop_span: int = options.drop_span

    @staticmethod
    def _build_rules(o: Any) -> dict[str, tuple[FieldRules, ...]]:
        """Index the options by metric name: ``{"fl_round": (FieldRules("accuracy", ...), ...)}``."""
        participation = f"{o.participation_metric}.{PARTICIPATION}"
        below = dict(o.below)
        if o.min_participation > 0:
            below.setdefault(participation, o.min_participation)
        keys = list(dict.fromkeys([*o.watch, *o.above, *below, *o.spike, *o.drop]))
        by_metric: dict[str, list[FieldRules]] = {}
        for key in keys:
            metric, _, field = key.rpartition(".")
            ratio = tuple(o.participation_fields) if key == participation else None
            rules = FieldRules(
                field, key in o.watch, o.above.get(key), below.get(key), o.spike.get(key), o.drop.get(key), ratio
            )
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
            key_tags = tuple(sorted(record.tags.items()))  # once per record, shared by its watched fields
            for field_rules in rules:
                value = record.fields.get(field_rules.field)
                if value is None and field_rules.ratio is not None:
                    value = _ratio(record.fields, field_rules.ratio)
                if value is None or value.__class__ is bool or value.__class__ is str:
                    continue
                try:
                    number = float(value)
                except (OverflowError, TypeError, ValueError):  # an int beyond float range, or not a number
                    continue
                if not math.isfinite(number):
                    continue
                alert = self._check(record, key_tags, field_rules, number)
                if alert is not None:
                    alerts.append(alert)
        if not alerts:
            return batch
        self.runtime.stats.count("anomalies", len(alerts))
        return [*batch, *alerts]

    def _window(self, record: Metric, key_tags: tuple[tuple[str, str], ...], field: str) -> SeriesWindow | None:
        key = (record.name, field, record.experiment, key_tags)
        window = self._series.get(key)
        if window is None:
            if len(self._series) >= self.options.max_series:
                self.runtime.stats.count("series_untracked")  # a tag-cardinality explosion must not eat memory
                return None
            window = self._series[key] = SeriesWindow(self.options.window)
            self.runtime.stats.extra["series"] = len(self._series)
        return window

    def _check(
        self, record: Metric, key_tags: tuple[tuple[str, str], ...], rules: FieldRules, value: float
    ) -> Event | None:
        """Apply ``rules`` to one sample, add it to its window, and return an event if a rule newly fired.

        Written for the common case (nothing fires): no allocation beyond the window update.
        """
        window = self._window(record, key_tags, rules.field)
        if window is None:
            return None
        mean, std = window.mean_std()
        samples = window.count
        z: float | None = None
        if samples >= self._min_samples:
            floor = self._min_std_ratio * abs(mean)
            scale = std if std > floor else floor
            z = (value - mean) / (scale if scale > 1e-12 else 1e-12)
        findings: list[Finding] = []
        if rules.above is not None and (f := check_above(value, rules.above)):
            findings.append(f)
        if rules.below is not None and (f := check_below(value, rules.below)):
            findings.append(f)
        if rules.spike is not None and z is not None and (f := check_spike(value, mean, rules.spike)):
            findings.append(f)
        if rules.drop is not None and (f := check_drop(window, value, self._drop_span, rules.drop)):
            findings.append(f)
        if rules.zscore and z is not None and abs(z) >= self._z_threshold:
            findings.append(
                zscore_finding(z, self._z_threshold, self._severe_z)
            )  # appended in RULE_ORDER: explicit thresholds first, the z-score last
        window.push(value)
        if not findings:
            if window.alerting:
                window.alerting = set()  # every rule stopped firing: re-armed
            return None
        new = [f for f in findings if f.rule not in window.alerting]
        window.alerting = {f.rule for f in findings}
        if not new:
            return None
        return anomaly_event(record, rules.field, value, Baseline(mean, std, z, samples), new, self.runtime.instance)
