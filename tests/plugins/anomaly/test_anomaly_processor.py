"""The anomaly processor on synthetic batches: spikes, thresholds, drops, the cheap path and option errors."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flcollector import Event, Metric, Record
from flcollector.options import OptionError
from flcollector.plugins.anomaly.alerts import category
from flcollector.plugins.anomaly.processor import AnomalyProcessor
from flcollector.plugins.anomaly.window import SeriesWindow


def rtt(value: float, i: int, host: str = "h1") -> Metric:
    return Metric("probe_tcp", {"rtt_avg_ms": value}, time_ns=1_700_000_000_000_000_000 + i, tags={"host": host})


def anomalies(batch: list[Record]) -> list[Event]:
    return [r for r in batch if isinstance(r, Event) and r.type == "ANOMALY_DETECTED"]


def test_spike_in_steady_series_gives_exactly_one_event(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": ["probe_tcp.rtt_avg_ms"], "spike": {}})
    rng = random.Random(7)
    values = [20 + rng.uniform(-0.5, 0.5) for _ in range(80)]  # bounded noise: |z| stays under 2 by construction
    values[50] = 40.0  # 40 standard deviations out
    events: list[Event] = []
    for start in range(0, 80, 8):  # several batches, as the pipeline delivers them
        batch: list[Record] = [rtt(v, i) for i, v in enumerate(values[start : start + 8], start)]
        events += anomalies(proc.process(batch))
    assert len(events) == 1
    (event,) = events
    assert event.details["value"] == 40.0
    assert event.details["rule"] == "zscore"
    assert event.details["z"] > 6
    assert event.level == "ERROR"  # beyond severe_z
    assert event.details["category"] == "network"
    assert event.details["tags"] == {"host": "h1"}
    assert abs(event.details["mean"] - 20) < 0.5
    assert event.time_ns == 1_700_000_000_000_000_000 + 50
    assert proc.runtime.stats.counters["anomalies"] == 1


def test_level_shift_alerts_once_per_episode_and_rearms(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": ["probe_tcp.rtt_avg_ms"], "spike": {}, "window": 20})
    rng = random.Random(1)
    series = [10 + rng.uniform(-0.2, 0.2) for _ in range(30)] + [30 + rng.uniform(-0.2, 0.2) for _ in range(40)]
    series += [10 + rng.uniform(-0.2, 0.2) for _ in range(40)]
    events = anomalies(proc.process([rtt(v, i) for i, v in enumerate(series)]))
    # one event when the level jumps up, one when it comes back down; none while it stays shifted
    assert [e.details["z"] > 0 for e in events] == [True, False]


def test_series_are_separate_by_tags(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": ["probe_tcp.rtt_avg_ms"], "spike": {}})
    batch: list[Record] = [rtt(5.0 + (i % 2) * 0.1, i, "a") for i in range(20)]
    batch += [rtt(500.0 + (i % 2), i, "b") for i in range(20)]  # a different level on host b is normal for b
    assert anomalies(proc.process(batch)) == []
    assert proc.runtime.stats.extra["series"] == 2


def test_threshold_rules_from_the_spec(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": []})  # only the default threshold tables
    batch: list[Record] = [Metric("probe_tcp", {"loss_percent": v}) for v in (0.0, 1.0, 7.0, 8.0, 0.0, 12.0)]
    events = anomalies(proc.process(batch))
    assert [(e.details["rule"], e.details["value"], e.level) for e in events] == [
        ("above", 7.0, "WARNING"),
        ("above", 12.0, "ERROR"),  # re-armed after 0.0; at twice the limit it is severe
    ]
    assert events[0].details["threshold"] == 5.0


def test_latency_spike_over_baseline(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": []})
    batch: list[Record] = [rtt(50.0 + (i % 3), i) for i in range(12)] + [rtt(175.0, 12)]
    (event,) = anomalies(proc.process(batch))
    assert event.details["rule"] == "spike"
    # the spec's alert: type, severity, current value, baseline, timestamp in epoch seconds
    assert event.details["alert_type"] == "network_latency_spike" and event.details["severity"] == "high"
    assert event.details["current_value"] == 175.0 and event.details["baseline"] == pytest.approx(51.0, abs=0.1)
    assert event.details["timestamp"] == pytest.approx(1_700_000_000.0) and event.level == "ERROR"


def test_accuracy_drop(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {})
    accuracies = [0.50, 0.62, 0.70, 0.76, 0.80, 0.81, 0.82, 0.82, 0.83, 0.74, 0.70, 0.69, 0.68, 0.70, 0.72, 0.80]
    batch: list[Record] = [Metric("fl_round", {"accuracy": a}, round=i + 1) for i, a in enumerate(accuracies)]
    events = anomalies(proc.process(batch))
    # reference: the first round whose last 5 accuracies average more than 0.1 below the 5 before them
    expected = next(
        n
        for n in range(10, len(accuracies) + 1)
        if sum(accuracies[n - 10 : n - 5]) / 5 - sum(accuracies[n - 5 : n]) / 5 > 0.1
    )
    assert len(events) == 1  # stays one while the drop persists
    assert events[0].details["rule"] == "drop"
    assert events[0].details["alert_type"] == "fl_accuracy_drop" and events[0].details["severity"] == "high"
    before = sum(accuracies[expected - 10 : expected - 5]) / 5
    low, high = events[0].details["expected_range"]
    assert (low, high) == (pytest.approx(before - 0.05), pytest.approx(before + 0.05))  # the spec's +-0.05
    assert events[0].details["current_value"] == accuracies[expected - 1]
    assert events[0].round == expected
    assert events[0].details["category"] == "fl"


def test_unwatched_metrics_pass_through_unchanged(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {})
    batch: list[Record] = [Metric("system_memory", {"used_percent": float(i)}) for i in range(100)]
    batch.append(Event("ROUND_COMPLETED", "round 1 done"))
    batch.append(Metric("probe_tcp", {"other_field": 1e9}))  # a watched metric, but not a watched field
    before = list(batch)
    out = proc.process(batch)
    assert out is batch
    assert all(a is b for a, b in zip(out, before, strict=True))
    assert proc.runtime.stats.extra.get("series") is None  # nothing was tracked


def test_non_numeric_and_nan_values_are_ignored(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": ["probe_tcp.rtt_avg_ms"]})
    batch: list[Record] = [Metric("probe_tcp", {"rtt_avg_ms": v}) for v in ("n/a", True, math.nan, math.inf)]
    assert proc.process(batch) is batch


def test_max_series_bounds_memory(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": ["probe_tcp.rtt_avg_ms"], "max_series": 3})
    proc.process([rtt(1.0, i, f"h{i}") for i in range(10)])
    assert proc.runtime.stats.extra["series"] == 3
    assert proc.runtime.stats.counters["series_untracked"] == 7


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"watch": ["no_dot"]}, "watch"),
        ({"above": {"fl_round.": 1.0}}, "above"),
        ({"window": 1}, "window"),
        ({"min_participation": 1.5}, "min_participation"),
        ({"participation_fields": ["clients_succeeded"]}, "participation_fields"),
    ],
)
def test_bad_options_are_rejected(make_component: Callable[..., Any], options: dict[str, Any], key: str) -> None:
    with pytest.raises(OptionError) as info:
        make_component(AnomalyProcessor, options)
    assert key in str(info.value)


def test_window_statistics_match_numpy_after_many_wraps() -> None:
    rng = np.random.default_rng(3)
    values = 1e9 + rng.normal(0, 1e3, 1000)  # large values, small spread: where naive sums lose precision
    window = SeriesWindow(60)
    for v in values:
        window.push(float(v))
    mean, std = window.mean_std()
    assert mean == pytest.approx(values[-60:].mean(), rel=1e-12)
    assert std == pytest.approx(values[-60:].std(), rel=1e-6)
    assert np.array_equal(window.ordered(), values[-60:])


def test_flat_series_ignores_moves_under_the_std_floor(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": ["fl_round.accuracy"], "drop": {}})
    flat = [Metric("fl_round", {"accuracy": 0.9}, round=n) for n in range(1, 21)]
    wiggle = Metric("fl_round", {"accuracy": 0.9 * (1 - 0.029)}, round=21)  # under 3 x 1% of the level
    jump = Metric("fl_round", {"accuracy": 0.9 * (1 - 0.04)}, round=22)
    events = anomalies(proc.process([*flat, wiggle, jump]))
    assert [e.round for e in events] == [22]


def test_huge_integers_are_skipped_not_fatal(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {"watch": ["probe_tcp.rtt_avg_ms"]})
    batch: list[Record] = [Metric("probe_tcp", {"rtt_avg_ms": 10**400}), rtt(1.0, 1)]
    assert proc.process(batch) is batch
    assert proc.runtime.stats.extra["series"] == 1


def test_network_summary_metric_is_watched_and_categorised_as_network(make_component: Callable[..., Any]) -> None:
    proc = make_component(AnomalyProcessor, {})  # defaults: the sdn monitor's `network` summary metric
    batch: list[Record] = [Metric("network", {"latency_avg_ms": 12.0 + (i % 2)}) for i in range(12)]
    batch.append(Metric("network", {"latency_avg_ms": 140.0, "packet_loss_percent": 1.0}))
    (event,) = anomalies(proc.process(batch))
    assert (event.details["category"], event.details["rule"]) == ("network", "spike")
    assert category("policy_trust") == "policy" and category("system_cpu") == "system"


def test_client_disconnect_under_70_percent_participation(make_component: Callable[..., Any]) -> None:
    """Issue 8 item 5: the spec's client-disconnect rule: a round in which under 70 % of the selected clients
    succeeded is a ``client_disconnect_spike`` alert (severity medium), once per episode."""
    proc = make_component(AnomalyProcessor, {})
    rounds = [(5, 5), (4, 5), (3, 5), (2, 5), (5, 5), (1, 4)]  # (succeeded, selected): 100, 80, 60, 40, 100, 25 %
    batch: list[Record] = [
        Metric("fl_round", {"clients_succeeded": ok, "clients_selected": asked}, time_ns=10**18 + n, round=n)
        for n, (ok, asked) in enumerate(rounds, 1)
    ]
    events = anomalies(proc.process(batch))
    assert [e.round for e in events] == [3, 6]  # 60 % opens an episode, 40 % continues it, 25 % is a new one
    first = events[0].details
    assert first["alert_type"] == "client_disconnect_spike" and first["severity"] == "medium"
    assert first["current_value"] == 0.6 and first["threshold"] == 0.7 and first["expected_range"] == [0.7, None]
    assert events[0].level == "WARNING" and events[1].details["current_value"] == 0.25
    off = make_component(AnomalyProcessor, {"min_participation": 0})
    assert anomalies(off.process(list(batch))) == []
