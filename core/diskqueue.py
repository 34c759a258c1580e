"""The durable send queue: frames appended to segment files, acknowledged by a small position file.

Layout under ``directory``: ``<number>.seg`` files holding frames (a 20-byte header ``length, crc32, records,
enqueued_ns`` and the units, each length-prefixed), and ``ack``, the position ``(segment, offset)`` before which the
remote acknowledged everything (two slots overwritten in turn, so it is never torn: :mod:`.ackfile`). A restart
resumes at the acknowledged position, so duplicates are bounded to the frames in flight when the agent died. A torn
tail (the agent killed mid-write) is cut off at recovery. Segments wholly before the acknowledged position are
deleted, so the disk holds the backlog plus at most one segment already delivered. The newest frames are also kept
in memory once written (:mod:`.framecache`): a delivery that keeps up sends them without reading them back, and an
acknowledgement costs one hop to a worker thread.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

import trio

from .ackfile import AckFile
from .framecache import CachedFrame, FrameCache, Position
from .sendqueue import SendQueue, Taken
from .stats import ComponentStats

HEADER = struct.Struct("<IIIQ")  # payload length, crc32 of the payload, records, enqueued_ns
UNIT = struct.Struct("<I")
MiB = 1 << 20
CACHE_BYTES = 8 * MiB  # the newest frames kept in memory (see framecache)


def encode_frame(units: list[bytes], records: int, enqueued_ns: int) -> bytes:
    """One frame: the header, then every unit with its length."""
    payload = b"".join(UNIT.pack(len(u)) + u for u in units)
    return HEADER.pack(len(payload), zlib.crc32(payload), records, enqueued_ns) + payload


def decode_units(payload: bytes) -> list[bytes]:
    """The units of a frame's payload."""
    units, offset = [], 0
    while offset < len(payload):
        (length,) = UNIT.unpack_from(payload, offset)
        offset += UNIT.size
        units.append(payload[offset : offset + length])
        offset += length
    return units


class DiskQueue(SendQueue):
    """A :class:`SendQueue` that survives restarts; file I/O runs in worker threads, state changes on Trio's."""

    def __init__(self, directory: Path, max_bytes: int, when_full: str, stats: ComponentStats, log: logging.Logger,
                 *, fsync: bool = True, segment_bytes: int | None = None, cache_bytes: int = CACHE_BYTES) -> None:
        super().__init__(max_bytes, when_full, stats, log)
        self.directory = directory
        self.fsync = fsync
        self.segment_bytes = segment_bytes or max(MiB, min(64 * MiB, max_bytes // 8))
        self._sizes: dict[int, int] = {}  # segment number -> bytes written, oldest first
        self._ack: Position = (1, 0)
        self._read_pos: Position = (1, 0)
        self._fd: int | None = None  # append descriptor of the last segment
        self._lock = trio.Lock()  # reads and evictions both move the read position
        self._cache = FrameCache(cache_bytes)
        self._ack_file = AckFile(directory / "ack", fsync=fsync)

    def _path(self, number: int) -> Path:
        return self.directory / f"{number:020d}.seg"

    @property
    def _last(self) -> int:
        return next(reversed(self._sizes))

    def _normalize(self, pos: Position) -> Position:
        """Step past the end of finished segments."""
        number, offset = pos
        while number != self._last and offset >= self._sizes.get(number, 0):
            number, offset = min(n for n in self._sizes if n > number), 0
        return number, offset

    def has_unread(self) -> bool:
        """Whether a frame waits that was not taken yet."""
        return bool(self._sizes) and self._normalize(self._read_pos) != (self._last, self._sizes[self._last])

    # -- recovery -----------------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Recover what a previous run left: cut a torn tail, count the backlog, resume at the acknowledged spot."""
        await trio.to_thread.run_sync(self._recover)
        self.stats.count("recovered", self.pending_records)
        if self.pending_records:
            self.log.info("disk buffer %s holds %d records (%d bytes) from a previous run; delivering them",
                          self.directory, self.pending_records, self.pending_bytes)

    def _recover(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        numbers = sorted(int(p.stem) for p in self.directory.glob("*.seg") if p.stem.isdigit())
        ack = self._ack_file.open() or ((numbers[0], 0) if numbers else (1, 0))
        for number in [n for n in numbers if n < ack[0]]:
            self._path(number).unlink(missing_ok=True)
        numbers = [n for n in numbers if n >= ack[0]]
        if numbers and numbers[0] != ack[0]:
            ack = (numbers[0], 0)
        for index, number in enumerate(numbers):
            start = ack[1] if number == ack[0] else 0
            self._sizes[number] = self._scan(number, start, verify=index == len(numbers) - 1)
        if not numbers:
            self._sizes[ack[0]] = 0
            self._path(ack[0]).touch()
        self._ack = self._read_pos = (ack[0], min(ack[1], self._sizes[ack[0]]))
        self._fd = os.open(self._path(self._last), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _scan(self, number: int, start: int, verify: bool) -> int:
        """Count the frames of a segment from ``start``; cut a torn tail; return the segment's good length."""
        path = self._path(number)
        with path.open("r+b") as f:
            end = f.seek(0, os.SEEK_END)
            pos = start
            while pos + HEADER.size <= end:
                f.seek(pos)
                length, crc, records, enqueued_ns = HEADER.unpack(f.read(HEADER.size))
                if pos + HEADER.size + length > end or (verify and zlib.crc32(f.read(length)) != crc):
                    break
                if self.oldest_ns is None:
                    self.oldest_ns = enqueued_ns
                self.pending_records += records
                self.pending_bytes += HEADER.size + length
                pos += HEADER.size + length
            if pos < end:
                self.log.warning("disk buffer %s: cut a torn tail of %d bytes (the agent died mid-write)", path,
                                 end - pos)
                f.truncate(pos)
        return pos

    # -- appending ----------------------------------------------------------------------------------------------

    async def _append(self, units: list[bytes], records: int, size: int, enqueued_ns: int) -> None:
        frame = encode_frame(units, records, enqueued_ns)
        if self._sizes[self._last] >= self.segment_bytes:
            number = self._last + 1
            self._fd = await trio.to_thread.run_sync(self._roll, number)
            self._sizes[number] = 0
        assert self._fd is not None
        await trio.to_thread.run_sync(self._write, self._fd, frame)
        number, start = self._last, self._sizes[self._last]
        self._sizes[number] = end = start + len(frame)
        self._cache.add(CachedFrame((number, start), (number, end), units, records, len(frame), enqueued_ns))

    def _roll(self, number: int) -> int:
        if self._fd is not None:
            os.close(self._fd)
        return os.open(self._path(number), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _write(self, fd: int, frame: bytes) -> None:
        view = memoryview(frame)
        while view:
            view = view[os.write(fd, view) :]
        if self.fsync:
            os.fdatasync(fd)  # the data and the file's new length; its times need not be forced

    # -- reading, acknowledging, evicting -----------------------------------------------------------------------

    async def _read(self, max_records: int, max_bytes: int) -> Taken:
        async with self._lock:
            pos = self._normalize(self._read_pos)
            cached = self._cache.take(pos, max_records, max_bytes)
            if cached:  # written by this process and still in memory: no need to read it back
                units = cached[0].units if len(cached) == 1 else [u for frame in cached for u in frame.units]
                self._read_pos = cached[-1].end
                return Taken(units, sum(f.records for f in cached), sum(f.size for f in cached))
            taken, pos = await trio.to_thread.run_sync(self._read_frames, pos, dict(self._sizes), max_records,
                                                       max_bytes)
            self._read_pos = pos
            return taken

    def _read_frames(self, pos: Position, sizes: dict[int, int], max_records: int, max_bytes: int
                     ) -> tuple[Taken, Position]:
        taken = Taken([], 0, 0)
        number, offset = pos
        with self._path(number).open("rb") as f:
            f.seek(offset)
            while offset + HEADER.size <= sizes[number]:
                length, crc, records, _ = HEADER.unpack(f.read(HEADER.size))
                if taken.units and (taken.records + records > max_records or taken.size + length > max_bytes):
                    break
                payload = f.read(length)
                offset += HEADER.size + length
                if zlib.crc32(payload) != crc:  # the disk lied: skip the rest of this segment, loudly
                    self.stats.count("corrupt_frames")
                    self.log.error("disk buffer %s: a corrupt frame at offset %d; skipping the rest of the segment",
                                   self._path(number), offset - HEADER.size - length)
                    offset = sizes[number]
                    break
                taken.units.extend(decode_units(payload))
                taken.records += records
                taken.size += HEADER.size + length
        return taken, (number, offset)

    async def _release(self) -> None:
        async with self._lock:
            await self._acknowledge(self._normalize(self._read_pos))

    async def _acknowledge(self, pos: Position) -> None:
        """Persist ``pos`` as acknowledged, delete the segments before it, and find the next oldest frame."""
        self._ack = self._read_pos = pos
        finished = [n for n in self._sizes if n < pos[0]]
        for number in finished:
            del self._sizes[number]
        cached = self._cache.at(pos)
        size = None if cached is not None else self._sizes.get(pos[0], 0)  # None: no need to read the next header
        oldest = await trio.to_thread.run_sync(self._persist_ack, pos, finished, size)
        self.oldest_ns = cached.enqueued_ns if cached is not None else oldest

    def _persist_ack(self, ack: Position, finished: list[int], size: int | None) -> int | None:
        """Write the acknowledged position, delete finished segments, and (given ``size``) return the enqueue
        time of the frame at ``ack`` read from its header."""
        self._ack_file.write(ack)
        for number in finished:
            self._path(number).unlink(missing_ok=True)
        return None if size is None else self._enqueued_at(ack, size)

    def _enqueued_at(self, pos: Position, size: int) -> int | None:
        number, offset = pos
        if offset + HEADER.size > size:
            return None
        with self._path(number).open("rb") as f:
            f.seek(offset)
            return int(HEADER.unpack(f.read(HEADER.size))[3])

    async def _evict_oldest_unread(self) -> tuple[int, int] | None:
        async with self._lock:
            if not self.has_unread():
                return None
            number, offset = self._normalize(self._read_pos)
            cached = self._cache.at((number, offset))
            if cached is not None:
                records, size = cached.records, cached.size
            else:
                with self._path(number).open("rb") as f:  # one 20-byte header, from the page cache
                    f.seek(offset)
                    length, _, records, _ = HEADER.unpack(f.read(HEADER.size))
                size = HEADER.size + length
            self._read_pos = self._normalize((number, offset + size))
            if self.in_flight is None:  # nothing to wait for: the dropped frames are behind us now
                await self._acknowledge(self._read_pos)
            return records, size

    async def close(self) -> None:
        """Close the append file and the ack file; what is pending stays for the next run."""
        self._ack_file.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
