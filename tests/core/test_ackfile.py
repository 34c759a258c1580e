"""The disk queue's ack file: two slots overwritten in turn, a spoilt newer slot falls back to the older one."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from flcollector.ackfile import SLOT, AckFile


def test_the_newest_valid_slot_wins_and_a_torn_one_falls_back_to_the_acknowledgement_before(tmp_path: Path) -> None:
    ack = AckFile(tmp_path / "ack", fsync=True)
    assert ack.open() is None
    for position in ((1, 100), (1, 200), (2, 0)):
        ack.write(position)
    ack.close()
    assert (tmp_path / "ack").stat().st_size == 2 * SLOT.size
    assert AckFile(tmp_path / "ack", fsync=False).open() == (2, 0)

    newest = 3 % 2  # the slot the third write went to: cut it short, as a power cut in the middle of it would
    with (tmp_path / "ack").open("r+b") as f:
        f.seek(newest * SLOT.size + 10)
        f.write(b"\xff\xff")
    again = AckFile(tmp_path / "ack", fsync=False)
    assert again.open() == (1, 200)
    again.write((2, 50))  # goes to the slot that is not the one it recovered from
    again.close()
    assert AckFile(tmp_path / "ack", fsync=False).open() == (2, 50)


def test_the_former_single_position_file_is_read_and_rewritten_as_slots(tmp_path: Path) -> None:
    data = struct.pack("<QQ", 3, 4096)
    (tmp_path / "ack").write_bytes(data + struct.pack("<I", zlib.crc32(data)))
    ack = AckFile(tmp_path / "ack", fsync=False)
    assert ack.open() == (3, 4096)
    ack.close()
    assert (tmp_path / "ack").stat().st_size == 2 * SLOT.size
    assert AckFile(tmp_path / "ack", fsync=False).open() == (3, 4096)
