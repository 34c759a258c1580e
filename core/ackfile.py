"""The disk queue's acknowledged position, overwritten in place in one of two slots, never torn.

The file ``ack`` holds two slots ``(sequence, segment, offset, crc32)``; each acknowledgement overwrites the older
slot, so a write cut short (a power cut) spoils at most that slot and the other still holds the acknowledgement
before it. Recovery takes the valid slot with the higher sequence. Writing in place costs one ``pwrite`` (and one
``fdatasync`` when forced), where a temporary file renamed over the old one cost a file creation and, on ext4, a
writeback of the new file at each rename. A 20-byte file from before the slots (``segment, offset, crc32``) is
read once and rewritten as slots.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

from .framecache import Position

SLOT = struct.Struct("<QQQI")  # sequence, segment, offset, crc32 of the first 24 bytes
SINGLE = struct.Struct("<QQI")  # the former layout: segment, offset, crc32 of the first 16 bytes


def _valid(data: bytes, layout: struct.Struct) -> tuple[int, ...] | None:
    if len(data) != layout.size:
        return None
    *values, crc = layout.unpack(data)
    return tuple(values) if zlib.crc32(data[: layout.size - 4]) == crc else None


class AckFile:
    """The ``ack`` file of one disk queue: :meth:`open` reads the position, :meth:`write` replaces it."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self.sequence = 0
        self._fd: int | None = None

    def open(self) -> Position | None:
        """Open the file (creating it) and return the acknowledged position, or None when there is none valid."""
        try:
            data = self.path.read_bytes()
        except OSError:
            data = b""
        position: Position | None = None
        single = _valid(data, SINGLE)
        if single is not None:
            position = (single[0], single[1])
        for index in (0, 1):
            slot = _valid(data[index * SLOT.size : (index + 1) * SLOT.size], SLOT)
            if slot is not None and slot[0] > self.sequence:
                self.sequence, position = slot[0], (slot[1], slot[2])
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if len(data) != 2 * SLOT.size:  # new, spoilt, or the former layout: start the slots afresh
            os.ftruncate(self._fd, 0)
            if position is not None:
                self.write(position)
                self.write(position)
            if self.fsync:  # the file's name too must survive a power cut
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
        return position

    def write(self, position: Position) -> None:
        """Make ``position`` the acknowledged one (forced to disk with ``fsync``)."""
        assert self._fd is not None, "write() before open()"
        self.sequence += 1
        data = struct.pack("<QQQ", self.sequence, *position)
        os.pwrite(self._fd, data + struct.pack("<I", zlib.crc32(data)), (self.sequence % 2) * SLOT.size)
        if self.fsync:
            os.fdatasync(self._fd)

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
