"""The convergence processor on synthetic training curves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from flcollector import Event, Metric, Record
from flcollector.plugins.convergence.processor import ConvergenceProcessor
from flcollector.plugins.convergence.tracker import slope


def fl_round(n: int, accuracy: float | None = None, loss: float | None = None, experiment: str = "exp1") -> Metric:
    fields: dict[str, float] = {}
    if accuracy is not None:
        fields["accuracy"] = accuracy
    if loss is not None:
        fields["loss"] = loss
    return Metric("fl_round", fields, time_ns=1_000 + n, source="fl_server", experiment=experiment, round=n)


def run(proc: Any, batches: Sequence[Sequence[Record]]) -> list[Record]:
    out: list[Record] = []
    for batch in batches:
        out += proc.process(list(batch))
    return out


def events(records: list[Record], type_: str) -> list[Event]:
    return [r for r in records if isinstance(r, Event) and r.type == type_]


def derived(records: list[Record]) -> list[Metric]:
    return [r for r in records if isinstance(r, Metric) and r.name == "fl_convergence"]


def test_flat_accuracy_curve_converges_exactly_once(make_component: Callable[..., Any]) -> None:
    proc = make_component(ConvergenceProcessor, {})
    rising = [0.3, 0.5, 0.62, 0.70, 0.76, 0.80, 0.83]
    flat = [0.85, 0.852, 0.851, 0.853, 0.852, 0.851, 0.853, 0.852, 0.852, 0.851]
    curve = rising + flat
    out = run(proc, [[fl_round(i + 1, a, 1 - a)] for i, a in enumerate(curve)])
    (event,) = events(out, "CONVERGENCE_DETECTED")
    # the first round whose last 5 rounds beat the best before them by less than 0.005
    first = next(n for n in range(6, len(curve) + 1) if max(curve[n - 5 : n]) - max(curve[: n - 5]) < 0.005)
    assert event.round == first
    assert event.experiment == "exp1"
    assert event.details["best_accuracy"] == max(curve[:first])
    metrics = derived(out)
    assert [m.round for m in metrics] == list(range(1, len(curve) + 1))
    assert [m.fields["converged"] for m in metrics] == [n >= first for n in range(1, len(curve) + 1)]


def test_rising_curve_never_converges(make_component: Callable[..., Any]) -> None:
    proc = make_component(ConvergenceProcessor, {})
    out = run(proc, [[fl_round(n, 0.1 + 0.03 * n) for n in range(1, 21)]])
    assert events(out, "CONVERGENCE_DETECTED") == []
    last = derived(out)[-1]
    assert last.fields["rounds_since_best"] == 0
    assert last.fields["accuracy_slope"] == pytest.approx(0.03)
    assert last.fields["accuracy_delta"] == pytest.approx(0.03)
    assert last.fields["best_accuracy"] == pytest.approx(0.1 + 0.03 * 20)


def test_duplicate_round_is_processed_once(make_component: Callable[..., Any]) -> None:
    proc = make_component(ConvergenceProcessor, {})
    out = run(proc, [[fl_round(1, 0.5, 0.9), fl_round(2, 0.6, 0.8)], [fl_round(2, 0.6, 0.8)], [fl_round(3, 0.7, 0.7)]])
    assert [m.round for m in derived(out)] == [1, 2, 3]
    assert derived(out)[-1].fields["accuracy_delta"] == pytest.approx(0.1)
    assert proc.runtime.stats.counters["duplicate_rounds"] == 1


def test_experiments_are_tracked_separately(make_component: Callable[..., Any]) -> None:
    proc = make_component(ConvergenceProcessor, {"window": 3})
    batch: list[Record] = [fl_round(n, 0.8, experiment="a") for n in range(1, 6)]
    batch += [fl_round(n, 0.1 * n, experiment="b") for n in range(1, 6)]  # same round numbers, other experiment
    out = run(proc, [batch])
    assert [e.experiment for e in events(out, "CONVERGENCE_DETECTED")] == ["a"]
    assert len(derived(out)) == 10


def test_plateau_and_divergence(make_component: Callable[..., Any]) -> None:
    proc = make_component(ConvergenceProcessor, {"patience": 4, "divergence_rounds": 3})
    accuracy = [0.5, 0.6, 0.7, 0.69, 0.68, 0.66, 0.65, 0.64, 0.75, 0.74]
    loss = [1.0, 0.8, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 0.5, 0.6]
    out = run(proc, [[fl_round(i + 1, a, lo) for i, (a, lo) in enumerate(zip(accuracy, loss, strict=True))]])
    (plateau,) = events(out, "PLATEAU")
    assert plateau.round == 7  # round 3 was the best; 4 rounds later without a new best
    (divergence,) = events(out, "DIVERGENCE")  # one per rising streak, not one per round of it
    assert divergence.round == 6
    assert divergence.level == "WARNING"


def test_nan_loss_is_a_divergence_and_non_numbers_are_ignored(make_component: Callable[..., Any]) -> None:
    proc = make_component(ConvergenceProcessor, {})
    nan_round = fl_round(2, 0.5, float("nan"))
    text_round = Metric("fl_round", {"accuracy": "high"}, experiment="exp1", round=3)
    no_round = Metric("fl_round", {"accuracy": 0.5}, experiment="exp1")
    out = run(proc, [[fl_round(1, 0.4, 1.0), nan_round, text_round, no_round]])
    (event,) = events(out, "DIVERGENCE")
    assert (event.level, event.round, event.details["loss"]) == ("ERROR", 2, 1.0)  # the last finite loss
    assert [m.round for m in derived(out)] == [1, 2, 3]
    assert "accuracy_delta" not in derived(out)[2].fields
    assert proc.runtime.stats.counters["no_round"] == 1


def test_other_records_pass_through_untouched(make_component: Callable[..., Any]) -> None:
    proc = make_component(ConvergenceProcessor, {})
    batch: list[Record] = [Metric("system_cpu", {"usage_percent": 3.0}), Event("ROUND_COMPLETED")]
    assert proc.process(batch) is batch


def test_slope_matches_numpy_polyfit() -> None:
    values = [0.1, 0.35, 0.4, 0.62, 0.6]
    assert slope(values) == pytest.approx(np.polyfit(range(5), values, 1)[0])
    assert slope([0.5, 0.6]) == 0.0
