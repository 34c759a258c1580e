"""A fixed-size window of the latest samples of one series, with O(1) mean and standard deviation.

The samples live in a preallocated numpy ring buffer (stack-notes §5c). The mean and variance come from running
sums of the samples *shifted by the first sample seen*, which keeps the classic ``E[x²] - E[x]²`` formula accurate
for large values with a small spread (bit rates around 1e9 varying by 1e3). The running sums drift a little on every
eviction, so they are recomputed exactly from the ring with numpy once per wrap-around (amortised O(1)).
"""

from __future__ import annotations

import math

import numpy as np


class SeriesWindow:
    """The last ``size`` samples of one series."""

    __slots__ = ("_index", "_ring", "_shift", "_sum", "_sumsq", "alerting", "count", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._ring = np.zeros(size, dtype=np.float64)
        self._index = 0  # where the next sample goes
        self.count = 0  # samples held (at most size)
        self._shift: float | None = None
        self._sum = 0.0  # of (x - shift)
        self._sumsq = 0.0  # of (x - shift)²
        #: the rules currently in alert for this series (alerts are edge-triggered: one event per episode)
        self.alerting: set[str] = set()

    def __len__(self) -> int:
        return self.count

    def push(self, value: float) -> None:
        """Add ``value``, evicting the oldest sample once the window is full."""
        if self._shift is None:
            self._shift = value
        d = value - self._shift
        if self.count == self.size:
            old = float(self._ring[self._index]) - self._shift
            self._sum -= old
            self._sumsq -= old * old
        else:
            self.count += 1
        self._ring[self._index] = value
        self._sum += d
        self._sumsq += d * d
        self._index += 1
        if self._index == self.size:
            self._index = 0
            self._resync()

    def _resync(self) -> None:
        """Recompute the running sums exactly (drift control), re-centring on the current mean."""
        values = self._ring[: self.count]
        self._shift = float(values.mean())
        centred = values - self._shift
        self._sum = float(centred.sum())
        self._sumsq = float(np.dot(centred, centred))

    def mean_std(self) -> tuple[float, float]:
        """Return the mean and the population standard deviation of the window (``(nan, nan)`` when empty)."""
        n = self.count
        if n == 0 or self._shift is None:
            return math.nan, math.nan
        m = self._sum / n
        var = self._sumsq / n - m * m
        return self._shift + m, math.sqrt(var) if var > 0.0 else 0.0

    def ordered(self) -> np.ndarray:
        """Return the samples oldest first (a copy)."""
        if self.count < self.size:
            return self._ring[: self.count].copy()
        return np.concatenate((self._ring[self._index :], self._ring[: self._index]))
