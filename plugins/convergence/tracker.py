"""Per-experiment training curve: the rounds seen, their accuracy and loss, and what they add up to."""

from __future__ import annotations

import math

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


@attrs.define
class Curve:
    """The training curve of one experiment, fed one round at a time (each round at most once)."""

    rounds_seen: set[int] = attrs.field(factory=set)
    accuracy: list[float] = attrs.field(factory=list)  # in the order rounds arrived
    loss: list[float] = attrs.field(factory=list)
    best_accuracy: float = -math.inf
    best_round: int | None = None
    best_index: int = -1  # position of the best accuracy in ``accuracy`` (its first occurrence)
    rounds: int = 0  # rounds processed
    last_round: int | None = None
    rising_loss: int = 0  # consecutive rounds whose loss rose
    converged_reported: bool = False
    plateau_reported: bool = False
    diverging_reported: bool = False

    def add(self, round_: int, accuracy: float | None, loss: float | None) -> dict[str, float | int | bool]:
        """Record one round and return the derived fields for it (only those that can be computed)."""
        self.rounds_seen.add(round_)
        self.rounds += 1
        self.last_round = round_
        out: dict[str, float | int | bool] = {}
        if accuracy is not None:
            if self.accuracy:
                out["accuracy_delta"] = accuracy - self.accuracy[-1]
            self.accuracy.append(accuracy)
            if accuracy > self.best_accuracy:
                self.best_accuracy, self.best_round = accuracy, round_
                self.best_index = len(self.accuracy) - 1
        if loss is not None:
            if self.loss:
                out["loss_delta"] = loss - self.loss[-1]
                self.rising_loss = self.rising_loss + 1 if loss > self.loss[-1] else 0
            self.loss.append(loss)
        return out

    def rounds_since_best(self) -> int:
        """How many rounds with an accuracy came after the first round that reached the best accuracy."""
        return len(self.accuracy) - 1 - self.best_index if self.best_index >= 0 else 0

    def improvement(self, window: int) -> float | None:
        """Best accuracy of the last ``window`` rounds minus the best before them; None until window+1 rounds."""
        if len(self.accuracy) <= window:
            return None
        return max(self.accuracy[-window:]) - max(self.accuracy[:-window])
