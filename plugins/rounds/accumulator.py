"""What one round gathered: sums of volumes (their share of each interval), and means and peaks of point samples.

A *sample* is ``(t0, t1, kind, key, values)``: a volume moved over ``[t0, t1]`` (``port``, ``traffic``, ``rule``,
``peer``), split over the rounds by the share of the interval inside each, or a reading at ``t0 == t1`` (``rate``,
``controller``, ``probe``, ``configured``, ``links``, ``count``). NaN in a reading means "not measured".
"""

from __future__ import annotations

import math
from typing import Any

Sample = tuple[int, int, str, Any, tuple[float, ...]]

#: volume kinds and the number of values each carries
VOLUMES = {"port": 7, "traffic": 6, "rule": 2, "peer": 4}
#: ``port`` values: rx_bytes, tx_bytes, rx_packets, tx_packets, rx_drops, tx_drops, errors
#: ``traffic``: fl, control, background bytes, then packets; ``rule``: bytes, packets;
#: ``peer``: bytes to the FL server, bytes from it, packets to it, packets from it


class Means:
    """Running sums of readings that may be NaN: a mean and a maximum per position."""

    __slots__ = ("counts", "maxima", "sums")

    def __init__(self, size: int) -> None:
        self.sums = [0.0] * size
        self.counts = [0] * size
        self.maxima = [-math.inf] * size

    def add(self, values: tuple[float, ...]) -> None:
        """Add one reading."""
        for i, value in enumerate(values):
            if value == value:  # not NaN
                self.sums[i] += value
                self.counts[i] += 1
                if value > self.maxima[i]:
                    self.maxima[i] = value

    def mean(self, i: int) -> float | None:
        """The mean of position ``i``, None when never measured."""
        return self.sums[i] / self.counts[i] if self.counts[i] else None

    def max(self, i: int) -> float | None:
        """The maximum of position ``i``, None when never measured."""
        return self.maxima[i] if self.counts[i] else None

    def copy(self) -> Means:
        """An independent copy."""
        other = Means(0)
        other.sums, other.counts, other.maxima = list(self.sums), list(self.counts), list(self.maxima)
        return other


class RoundAccumulator:
    """Everything one round window gathered; :meth:`copy` makes a provisional view cheap."""

    def __init__(self) -> None:
        self.volumes: dict[str, dict[Any, list[float]]] = {kind: {} for kind in VOLUMES}
        self.readings: dict[tuple[str, Any], Means] = {}
        self.counts: dict[str, float] = {}
        self.last_ns: int | None = None  # the newest sample time placed here

    def add(self, sample: Sample, share: float) -> None:
        """Add ``share`` (0-1) of a volume sample, or a whole reading."""
        _, t1, kind, key, values = sample
        if kind in VOLUMES:
            table = self.volumes[kind]
            sums = table.get(key)
            if sums is None:
                sums = table[key] = [0.0] * VOLUMES[kind]
            for i, value in enumerate(values):
                sums[i] += value * share
        elif kind == "count":
            self.counts[key] = self.counts.get(key, 0) + values[0]
        else:
            means = self.readings.get((kind, key))
            if means is None:
                means = self.readings[(kind, key)] = Means(len(values))
            means.add(values)
        if self.last_ns is None or t1 > self.last_ns:
            self.last_ns = t1

    def means(self, kind: str) -> dict[Any, Means]:
        """The readings of ``kind`` by key."""
        return {key: means for (k, key), means in self.readings.items() if k == kind}

    def total(self, kind: str, i: int) -> float:
        """Sum of position ``i`` over every key of a volume kind."""
        return sum(values[i] for values in self.volumes[kind].values())

    def copy(self) -> RoundAccumulator:
        """An independent copy (to add provisional samples to)."""
        other = RoundAccumulator()
        other.volumes = {kind: {key: list(v) for key, v in table.items()} for kind, table in self.volumes.items()}
        other.readings = {key: means.copy() for key, means in self.readings.items()}
        other.counts = dict(self.counts)
        other.last_ns = self.last_ns
        return other
