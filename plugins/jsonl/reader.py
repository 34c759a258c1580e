"""Read the archive back as records, surviving what a crash leaves behind.

A crash can cut the last line of a file short: :func:`read_jsonl` skips such a torn last line, counts it and logs
it, never raising. A bad line elsewhere (a repaired torn line, a hand edit) is skipped too, with a warning naming
the file and the line number. Usage::

    from flcollector.plugins.jsonl import read_jsonl, read_archive
    for record in read_archive("data/jsonl", "metrics"):
        ...
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import attrs
import orjson
from flcollector import Record, record_from_dict

log = logging.getLogger("flcollector.sink.jsonl")


@attrs.define
class ReadStats:
    """What a read found: records returned, torn last lines and corrupt lines skipped."""

    records: int = 0
    torn: int = 0
    corrupt: int = 0
    files: int = 0


def read_jsonl(path: str | Path, stats: ReadStats | None = None) -> Iterator[Record]:
    """Yield the records of one archive file in order, skipping (and counting) lines that are not records."""
    stats = stats if stats is not None else ReadStats()
    stats.files += 1
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = record_from_dict(orjson.loads(line))
            except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
                if not line.endswith(b"\n"):  # only the last line can lack its newline: a write cut by a crash
                    stats.torn += 1
                    log.warning(
                        "%s: skipped an incomplete last line %d (%d bytes), left by an interrupted write",
                        path,
                        number,
                        len(line),
                    )
                else:
                    stats.corrupt += 1
                    log.warning("%s:%d: skipped a line that is not a record: %s", path, number, exc)
                continue
            stats.records += 1
            yield record


def archive_files(
    directory: str | Path, kind: Literal["metrics", "events"], start_day: str | None = None, end_day: str | None = None
) -> list[Path]:
    """Return the files of ``kind`` in ``directory``, oldest day first, from ``start_day`` to ``end_day`` inclusive."""
    found = []
    for path in sorted(Path(directory).glob(f"{kind}-????-??-??.jsonl")):
        day = path.stem[len(kind) + 1 :]
        if (start_day is None or day >= start_day) and (end_day is None or day <= end_day):
            found.append(path)
    return found


def read_archive(
    directory: str | Path,
    kind: Literal["metrics", "events"],
    start_day: str | None = None,
    end_day: str | None = None,
    stats: ReadStats | None = None,
) -> Iterator[Record]:
    """Yield every record of ``kind`` in the archive ``directory``, day by day (days as ``YYYY-MM-DD``)."""
    for path in archive_files(directory, kind, start_day, end_day):
        yield from read_jsonl(path, stats)
