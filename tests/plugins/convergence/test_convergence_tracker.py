"""The training curve keeps what its figures need, bounded by the window, whatever the number of rounds."""

from __future__ import annotations

import random

from flcollector.plugins.convergence.tracker import Curve, RoundSet


def test_round_set_answers_as_a_set_does_and_stays_a_few_runs() -> None:
    rng = random.Random(7)
    numbers = list(range(1, 2001))
    rng.shuffle(numbers)  # worst order: runs appear everywhere, then join
    runs, plain = RoundSet(), set[int]()
    for n in numbers[:1500]:
        runs.add(n)
        plain.add(n)
    assert [n for n in range(0, 2002) if n in runs] == sorted(plain)
    assert len(runs) == len(plain) and "3" not in runs
    for n in numbers[1500:]:
        runs.add(n)
    runs.add(5)  # again: no change
    assert runs.runs == 1 and len(runs) == 2000 and 0 not in runs and 2001 not in runs


def test_curve_figures_match_the_whole_history_while_keeping_only_the_window() -> None:
    rng = random.Random(11)
    window, curve = 5, Curve(window=5)
    accuracies: list[float] = []
    for round_ in range(1, 3001):
        accuracy = None if round_ % 17 == 0 else round(rng.random(), 3)  # some rounds have no accuracy
        curve.add(round_, accuracy, loss=1.0 - (accuracy or 0.0))
        if accuracy is not None:
            accuracies.append(accuracy)
        # The figures as computed from the whole history, which the curve no longer keeps:
        expected = None if len(accuracies) <= window else max(accuracies[-window:]) - max(accuracies[:-window])
        assert curve.improvement() == expected
        best = max(accuracies)
        assert curve.best_accuracy == best
        assert curve.rounds_since_best() == len(accuracies) - 1 - accuracies.index(best)
        assert list(curve.recent) == accuracies[-window:]
    assert len(curve.recent) == window and curve.rounds_seen.runs == 1 and curve.rounds == 3000
