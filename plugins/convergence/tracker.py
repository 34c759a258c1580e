"""Per-experiment training curve: the rounds seen, the recent accuracies, and what they add up to.

Everything a curve keeps is bounded by the processor's ``window`` and by the gaps in the round numbers, never by
the number of rounds: an experiment of a hundred thousand rounds costs what one of ten does.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque

import attrs
import numpy as np


def slope(values: list[float]) -> float:
    """Least-squares slope of ``values`` against 0..n-1 (the spec's convergence rate); 0.0 below 3 points."""
    if len(values) < 3:
        return 0.0
    x = np.arange(len(values), dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    xc = x - x.mean()
    return float(np.dot(xc, y - y.mean()) / np.dot(xc, xc))


class RoundSet:
    """A set of round numbers kept as sorted, disjoint runs ``[first, last]``.

    Rounds arrive nearly in order, so an experiment of any length is a few runs (one when no round is missing)
    instead of one entry per round.
    """

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int):
            return False
        i = bisect_right(self.firsts, number) - 1
        return i >= 0 and number <= self.lasts[i]

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in zip(self.firsts, self.lasts, strict=True))

    def add(self, number: int) -> None:
        """Add ``number``, joining it to the runs it touches."""
        if number in self:
            return
        i = bisect_right(self.firsts, number)  # the runs before i start below ``number`` (and end before it)
        extends_left = i > 0 and self.lasts[i - 1] == number - 1
        extends_right = i < len(self.firsts) and self.firsts[i] == number + 1
        if extends_left and extends_right:  # it fills the gap between two runs: they become one
            self.lasts[i - 1] = self.lasts.pop(i)
            del self.firsts[i]
        elif extends_left:
            self.lasts[i - 1] = number
        elif extends_right:
            self.firsts[i] = number
        else:
            self.firsts.insert(i, number)
            self.lasts.insert(i, number)

    @property
    def runs(self) -> int:
        """How many runs the set holds (its size in memory)."""
        return len(self.firsts)


@attrs.define
class Curve:
    """The training curve of one experiment, fed one round at a time (each round at most once).

    It keeps the last ``window`` accuracies and the best accuracy of the rounds before them, which is all the
    processor's figures need: the rolling mean and slope, the improvement, the best and the rounds since it.
    """

    window: int
    rounds_seen: RoundSet = attrs.field(factory=RoundSet)
    recent: deque[float] = attrs.field(init=False)  # the last ``window`` accuracies, in the order rounds arrived
    best_before: float = -math.inf  # the best accuracy of the rounds that have left ``recent``
    accuracies: int = 0  # rounds that had an accuracy
    last_loss: float | None = None
    best_accuracy: float = -math.inf
    best_round: int | None = None
    best_index: int = -1  # position of the best accuracy among the accuracies (its first occurrence)
    rounds: int = 0  # rounds processed
    last_round: int | None = None
    rising_loss: int = 0  # consecutive rounds whose loss rose
    converged_reported: bool = False
    plateau_reported: bool = False
    diverging_reported: bool = False

    def __attrs_post_init__(self) -> None:
        self.recent = deque(maxlen=self.window)

    @property
    def last_accuracy(self) -> float | None:
        """The newest round's accuracy, or None before any."""
        return self.recent[-1] if self.recent else None

    def add(self, round_: int, accuracy: float | None, loss: float | None) -> dict[str, float | int | bool]:
        """Record one round and return the derived fields for it (only those that can be computed)."""
        self.rounds_seen.add(round_)
        self.rounds += 1
        self.last_round = round_
        out: dict[str, float | int | bool] = {}
        if accuracy is not None:
            if self.recent:
                out["accuracy_delta"] = accuracy - self.recent[-1]
            if len(self.recent) == self.window:  # the oldest leaves the window: only its share of the best stays
                self.best_before = max(self.best_before, self.recent[0])
            self.recent.append(accuracy)
            self.accuracies += 1
            if accuracy > self.best_accuracy:
                self.best_accuracy, self.best_round = accuracy, round_
                self.best_index = self.accuracies - 1
        if loss is not None:
            if self.last_loss is not None:
                out["loss_delta"] = loss - self.last_loss
                self.rising_loss = self.rising_loss + 1 if loss > self.last_loss else 0
            self.last_loss = loss
        return out

    def rounds_since_best(self) -> int:
        """How many rounds with an accuracy came after the first round that reached the best accuracy."""
        return self.accuracies - 1 - self.best_index if self.best_index >= 0 else 0

    def improvement(self) -> float | None:
        """Best accuracy of the last ``window`` rounds minus the best before them; None until window+1 rounds."""
        if self.accuracies <= self.window:
            return None
        return max(self.recent) - self.best_before
