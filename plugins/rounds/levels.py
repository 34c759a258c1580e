"""Readings that hold until the next one: what GNS3 was configured to do stays so until a poll says otherwise.

A round shorter than the GNS3 poll interval may see no poll at all; its configured columns are then the readings in
force when it started (the newest before its start), not blank.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .accumulator import RoundAccumulator, Sample

KINDS = frozenset({"configured", "links"})
KEPT = 64  # readings kept per key (polls), to find the one in force at a round's start


class Levels:
    """The newest readings of :data:`KINDS`, per key, in time order."""

    def __init__(self) -> None:
        self.readings: dict[tuple[str, Any], deque[Sample]] = {}

    def note(self, sample: Sample) -> None:
        """Remember ``sample`` if it is a level."""
        if sample[2] in KINDS:
            self.readings.setdefault((sample[2], sample[3]), deque(maxlen=KEPT)).append(sample)

    def in_force(self, start_ns: int, acc: RoundAccumulator) -> RoundAccumulator:
        """``acc``, plus (in a copy) the reading in force at ``start_ns`` of each level it saw none of."""
        missing = [levels for key, levels in self.readings.items() if key not in acc.readings]
        if not missing:
            return acc
        acc = acc.copy()
        for levels in missing:
            before = [sample for sample in levels if sample[1] <= start_ns]
            if before:
                acc.add(before[-1], 1.0)
        return acc
