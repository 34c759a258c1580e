"""Reading the archive back: torn last lines and corrupt lines are skipped, counted and logged, never fatal."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from flcollector import Event, Metric, record_to_dict
from flcollector.plugins.jsonl import ReadStats, archive_files, read_archive, read_jsonl


def write_lines(path: Path, records: list[Metric | Event], tail: bytes = b"") -> None:
    with open(path, "wb") as out:
        for record in records:
            out.write(orjson.dumps(record_to_dict(record), option=orjson.OPT_APPEND_NEWLINE))
        out.write(tail)


RECORDS: list[Metric | Event] = [
    Metric("cpu", {"v": 1}, 1_000_000_000_000_000_001, {"core": "0"}),
    Event("NOTE", "hello", 1_000_000_000_000_000_002, id=3, origin_id="note-3"),
    Metric("cpu", {"v": 2.5}, 1_000_000_000_000_000_003, experiment="e", round=2),
]


def test_a_torn_last_line_is_skipped_counted_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "metrics-2001-09-09.jsonl"
    full = orjson.dumps(record_to_dict(RECORDS[0]))
    write_lines(path, RECORDS, tail=full[: len(full) // 2])  # what a crash mid-write leaves
    stats = ReadStats()
    assert list(read_jsonl(path, stats)) == RECORDS
    assert (stats.records, stats.torn, stats.corrupt) == (3, 1, 0)
    assert "incomplete last line 4" in caplog.text and str(path) in caplog.text


def test_a_cut_utf8_sequence_at_the_end_is_a_torn_line_too(tmp_path: Path) -> None:
    path = tmp_path / "events-2001-09-09.jsonl"
    write_lines(path, RECORDS[:1], tail='{"type":"NOTE","message":"é'.encode()[:-1])
    stats = ReadStats()
    assert list(read_jsonl(path, stats)) == RECORDS[:1] and stats.torn == 1


def test_a_corrupt_middle_line_is_skipped_with_file_and_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "metrics-2001-09-09.jsonl"
    write_lines(path, RECORDS[:1], tail=b'{"not": "a record"}\nnot json at all\n\n')
    with open(path, "ab") as out:
        out.write(orjson.dumps(record_to_dict(RECORDS[2]), option=orjson.OPT_APPEND_NEWLINE))
    stats = ReadStats()
    assert list(read_jsonl(path, stats)) == [RECORDS[0], RECORDS[2]]
    assert (stats.corrupt, stats.torn) == (2, 0)
    assert f"{path}:2: skipped" in caplog.text and f"{path}:3: skipped" in caplog.text


def test_read_archive_walks_days_in_order_and_ignores_other_files(tmp_path: Path) -> None:
    write_lines(tmp_path / "metrics-2001-09-10.jsonl", RECORDS[2:])
    write_lines(tmp_path / "metrics-2001-09-09.jsonl", RECORDS[:1])
    write_lines(tmp_path / "events-2001-09-09.jsonl", RECORDS[1:2])
    (tmp_path / "metrics-notes.txt").write_text("not an archive file")
    stats = ReadStats()
    assert list(read_archive(tmp_path, "metrics", stats=stats)) == [RECORDS[0], RECORDS[2]]
    assert stats.files == 2
    assert [p.name for p in archive_files(tmp_path, "events")] == ["events-2001-09-09.jsonl"]
    assert list(read_archive(tmp_path, "metrics", start_day="2001-09-10")) == RECORDS[2:]


def test_an_event_line_written_before_origin_id_existed_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "events-2001-09-09.jsonl"
    line = {key: value for key, value in record_to_dict(RECORDS[1]).items() if key != "origin_id"}
    path.write_bytes(orjson.dumps(line) + b"\n")
    [event] = read_jsonl(path)
    assert isinstance(event, Event) and event.origin_id is None and event.id == 3 and event.message == "hello"
