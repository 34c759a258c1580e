"""The disk queue's memory of the frames it appended last, so a delivery that keeps up never reads them back.

A frame enters only once it is written (and forced, with fsync) to its segment, so what the delivery task takes
from here is byte for byte what a restart would read from disk. The cache holds a contiguous run of the newest
frames, at most ``max_bytes`` of them: when it is full the oldest leave it, and a delivery that fell that far
behind reads them from disk instead until it reaches the cached run.
"""

from __future__ import annotations

from collections import deque

import attrs

Position = tuple[int, int]  # (segment number, byte offset)


@attrs.define
class CachedFrame:
    """One appended frame: where it starts and ends on disk, its units, records, bytes and enqueue time."""

    start: Position
    end: Position
    units: list[bytes]
    records: int
    size: int
    enqueued_ns: int


class FrameCache:
    """The newest appended frames, oldest first, bounded by bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.frames: deque[CachedFrame] = deque()
        self.bytes = 0

    def add(self, frame: CachedFrame) -> None:
        """Remember a frame that is on disk now; forget the oldest beyond the budget."""
        self.frames.append(frame)
        self.bytes += frame.size
        while self.bytes > self.max_bytes:
            self.bytes -= self.frames.popleft().size

    def at(self, pos: Position) -> CachedFrame | None:
        """The cached frame starting at ``pos`` (the read position, normalised), forgetting those before it."""
        frames = self.frames
        while frames and frames[0].start < pos:
            self.bytes -= frames.popleft().size
        return frames[0] if frames and frames[0].start == pos else None

    def take(self, pos: Position, max_records: int, max_bytes: int) -> list[CachedFrame]:
        """Whole frames from ``pos`` on (at least one if cached), up to the limits; they leave the cache."""
        if self.at(pos) is None:
            return []
        taken: list[CachedFrame] = []
        records = size = 0
        while self.frames:
            frame = self.frames[0]
            if taken and (records + frame.records > max_records or size + frame.size > max_bytes):
                break
            self.frames.popleft()
            self.bytes -= frame.size
            taken.append(frame)
            records += frame.records
            size += frame.size
        return taken
