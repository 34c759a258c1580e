"""The queue between a remote sink's ``write`` and its delivery task: in memory, or on disk (:mod:`.diskqueue`).

A remote sink encodes each batch into *units* (one per record: a line of line protocol, a remote-write series, a
JSON document) and puts them into its queue as one *frame*. The delivery task takes whole frames, sends them, and
acknowledges them only after the remote's 2xx; until then they count as the backlog (records, bytes, and the age
of the oldest). The budget is ``max_bytes``; when a frame does not fit, the sink's ``when_full`` decides:
``block`` waits for acknowledgements (back-pressure), ``drop_newest`` refuses the frame, ``drop_oldest`` evicts the
oldest frames not in flight. Every drop is counted (``dropped`` and ``dropped_buffer_full``) and logged.
"""

from __future__ import annotations

import logging
from collections import deque

import attrs
import trio

from .records import now_ns
from .stats import ComponentStats

#: Bytes a frame costs beyond its units: the disk header (length, crc, records, time); one length per unit.
FRAME_OVERHEAD = 20
UNIT_OVERHEAD = 4


def frame_bytes(units: list[bytes]) -> int:
    """The size a frame of ``units`` takes in the queue's budget (the same in memory and on disk)."""
    return FRAME_OVERHEAD + sum(len(u) for u in units) + UNIT_OVERHEAD * len(units)


@attrs.define
class Taken:
    """Frames handed to the delivery task: their units, records and bytes (released by ``ack``)."""

    units: list[bytes]
    records: int
    size: int


class SendQueue:
    """Budget, ``when_full`` policy, backlog counters and wake-ups; subclasses store the frames."""

    def __init__(self, max_bytes: int, when_full: str, stats: ComponentStats, log: logging.Logger) -> None:
        self.max_bytes = max_bytes
        self.when_full = when_full
        self.stats = stats
        self.log = log
        self.pending_records = 0  # not yet acknowledged, in flight included
        self.pending_bytes = 0
        self.oldest_ns: int | None = None  # enqueue time of the oldest unacknowledged frame
        self.in_flight: Taken | None = None
        self._input_closed = False
        self._full = False
        self._changed = trio.Event()

    # -- what subclasses provide --------------------------------------------------------------------------------

    def has_unread(self) -> bool:
        """Whether a frame waits that was not taken yet."""
        raise NotImplementedError

    async def _append(self, units: list[bytes], records: int, size: int, enqueued_ns: int) -> None:
        raise NotImplementedError

    async def _read(self, max_records: int, max_bytes: int) -> Taken:
        """Take whole frames (at least one) up to the limits; set ``oldest_ns`` if nothing was in flight."""
        raise NotImplementedError

    async def _release(self) -> None:
        """Forget the frames in flight (acknowledged); update ``oldest_ns``."""
        raise NotImplementedError

    async def _evict_oldest_unread(self) -> tuple[int, int] | None:
        """Drop the oldest frame not in flight; return its ``(records, bytes)``, or None when there is none."""
        raise NotImplementedError

    async def open(self) -> None:
        """Prepare storage (the disk queue recovers what a previous run left)."""

    async def close(self) -> None:
        """Release storage; what is still pending stays there (on disk) or is gone (memory)."""

    # -- the interface ------------------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _drop(self, records: int, why: str) -> None:
        self.stats.count("dropped", records)
        self.stats.count("dropped_buffer_full", records)
        if not self._full:  # one log line per full episode; the counters have the totals
            self._full = True
            self.log.warning("buffer full (max_bytes=%d): %s; drops are counted until it has room", self.max_bytes,
                             why)

    async def put(self, units: list[bytes], records: int) -> None:
        """Queue one frame of ``units`` (``records`` records), applying ``when_full`` when it does not fit."""
        if not units:
            return
        size = frame_bytes(units)
        if size > self.max_bytes:
            self.stats.count("dropped", records)
            self.stats.count("dropped_too_large", records)
            self.log.error("a batch of %d records (%d bytes) is larger than max_bytes=%d: dropped", records, size,
                           self.max_bytes)
            return
        while self.pending_bytes + size > self.max_bytes:
            if self.when_full == "drop_newest":
                self._drop(records, "dropping the newest records (when_full = drop_newest)")
                return
            if self.when_full == "drop_oldest":
                evicted = await self._evict_oldest_unread()
                if evicted is None:  # everything left is in flight: the new frame is the one that cannot stay
                    self._drop(records, "dropping the newest records (all older ones are in flight)")
                    return
                self.pending_records -= evicted[0]
                self.pending_bytes -= evicted[1]
                self._drop(evicted[0], "dropping the oldest records (when_full = drop_oldest)")
                continue
            await self._changed.wait()  # block: back-pressure until an acknowledgement makes room
        stamp = now_ns()
        await self._append(units, records, size, stamp)
        if self.pending_records == 0:
            self.oldest_ns = stamp
        self.pending_records += records
        self.pending_bytes += size
        self.stats.count("queued", records)
        self._notify()

    async def take(self, max_records: int, max_bytes: int) -> Taken | None:
        """Wait for frames and take them (whole, up to the limits); None once input is closed and all was taken."""
        if self.in_flight is not None:
            raise RuntimeError("take() before the previous frames were acknowledged")
        while not self.has_unread():
            if self._input_closed:
                return None
            await self._changed.wait()
        self.in_flight = await self._read(max_records, max_bytes)
        return self.in_flight

    async def ack(self) -> None:
        """The remote accepted (or refused for good) everything taken: it leaves the backlog."""
        taken = self.in_flight
        if taken is None:
            return
        await self._release()
        self.in_flight = None
        self.pending_records -= taken.records
        self.pending_bytes -= taken.size
        if self.pending_records <= 0 or not self.has_unread():
            self.pending_records = self.pending_bytes = 0
            self.oldest_ns = None
        if self.pending_bytes < self.max_bytes:
            self._full = False
        self._notify()

    def close_input(self) -> None:
        """No more frames will come: ``take`` returns None once everything was taken."""
        self._input_closed = True
        self._notify()


class MemoryQueue(SendQueue):
    """Frames in a deque: fast, and lost with the process (the documented loss window of ``buffer = "memory"``)."""

    def __init__(self, max_bytes: int, when_full: str, stats: ComponentStats, log: logging.Logger) -> None:
        super().__init__(max_bytes, when_full, stats, log)
        self._frames: deque[tuple[list[bytes], int, int, int]] = deque()  # units, records, size, enqueued_ns

    def has_unread(self) -> bool:
        """Whether a frame waits that was not taken yet."""
        return bool(self._frames)

    async def _append(self, units: list[bytes], records: int, size: int, enqueued_ns: int) -> None:
        self._frames.append((units, records, size, enqueued_ns))

    async def _read(self, max_records: int, max_bytes: int) -> Taken:
        taken = Taken([], 0, 0)
        while self._frames:
            units, records, size, _ = self._frames[0]
            if taken.units and (taken.records + records > max_records or taken.size + size > max_bytes):
                break
            self._frames.popleft()
            taken.units.extend(units)
            taken.records += records
            taken.size += size
        return taken

    async def _release(self) -> None:
        self.oldest_ns = self._frames[0][3] if self._frames else None

    async def _evict_oldest_unread(self) -> tuple[int, int] | None:
        if not self._frames:
            return None
        _, records, size, _ = self._frames.popleft()
        if self.in_flight is None:
            self.oldest_ns = self._frames[0][3] if self._frames else None
        return records, size
