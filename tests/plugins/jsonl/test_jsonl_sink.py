"""The jsonl archive: file per kind per UTC day, plain JSON lines, fsync policies, failed batches cut back."""

from __future__ import annotations

import json
import resource
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing
from flcollector import Event, Metric, record_to_dict
from flcollector.plugins.jsonl import JsonlSink, read_archive, read_jsonl

DAY_NS = 86_400 * 10**9
MIDNIGHT = 20_420 * DAY_NS  # 2025-11-28T00:00:00Z
BEFORE, AFTER = MIDNIGHT - 1, MIDNIGHT  # the last nanosecond of the 27th, the first of the 28th


def records_at(time_ns: int, n: int = 2) -> list[Any]:
    metrics = [Metric("cpu", {"v": i, "f": 0.5}, time_ns, {"core": str(i)}, "host", "exp", 3) for i in range(n)]
    event = Event("ROUND_DONE", "round 3", time_ns, "fl_server", details={"round": 3}, id=7, origin_id="e-41")
    return [*metrics, event]


async def test_lines_are_plain_json_of_record_to_dict(make_component: Callable[..., Any]) -> None:
    batch = records_at(AFTER + 123_456_789)
    with trio.fail_after(10):
        async with make_component(JsonlSink) as sink:
            await sink.write(batch)
    directory = sink.directory
    metrics_lines = (directory / "metrics-2025-11-28.jsonl").read_text().splitlines()
    events_lines = (directory / "events-2025-11-28.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in metrics_lines] == [record_to_dict(r) for r in batch[:2]]
    assert [json.loads(line) for line in events_lines] == [record_to_dict(batch[2])]
    assert list(read_jsonl(directory / "metrics-2025-11-28.jsonl")) == batch[:2]
    written = (directory / "metrics-2025-11-28.jsonl").read_bytes() + (
        directory / "events-2025-11-28.jsonl"
    ).read_bytes()
    assert written == b"".join(orjson.dumps(record_to_dict(r), option=orjson.OPT_APPEND_NEWLINE) for r in batch)
    assert sink.runtime.stats.counters["lines_written"] == 3


async def test_a_batch_spanning_midnight_goes_to_two_files(make_component: Callable[..., Any]) -> None:
    batch = records_at(BEFORE) + records_at(AFTER)
    with trio.fail_after(10):
        async with make_component(JsonlSink, {"directory": "archive"}) as sink:
            await sink.write(batch)
    names = sorted(p.name for p in sink.directory.iterdir())
    assert names == [
        "events-2025-11-27.jsonl",
        "events-2025-11-28.jsonl",
        "metrics-2025-11-27.jsonl",
        "metrics-2025-11-28.jsonl",
    ]
    assert [m.time_ns for m in read_archive(sink.directory, "metrics", end_day="2025-11-27")] == [BEFORE, BEFORE]
    assert [m.time_ns for m in read_archive(sink.directory, "metrics", start_day="2025-11-28")] == [AFTER, AFTER]
    assert len(list(read_archive(sink.directory, "events"))) == 2


def tear_last_line(path: Path) -> None:
    with open(path, "ab") as crashed:
        crashed.write(b'{"name":"cpu","fields":{"v"')  # the agent died mid-line


async def test_reopening_appends_and_ends_a_torn_line_first(
    make_component: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    with trio.fail_after(10):
        async with make_component(JsonlSink) as sink:
            await sink.write(records_at(AFTER, 1))
        path = sink.directory / "metrics-2025-11-28.jsonl"
        tear_last_line(path)
        async with make_component(JsonlSink) as again:
            await again.write(records_at(AFTER + 1, 1))
    lines = path.read_bytes().splitlines()
    assert len(lines) == 3 and lines[1].startswith(b'{"name":"cpu","fields":{"v"')
    assert [m.time_ns for m in read_jsonl(path)] == [AFTER, AFTER + 1]
    assert "metrics-2025-11-28.jsonl:2: skipped a line" in caplog.text
    assert again.runtime.stats.extra["archive"]["repaired_lines"] == 1


@pytest.mark.parametrize(
    ("policy", "fsyncs_after_two_writes", "fsyncs_after_close"), [("batch", 2, 2), ("interval", 0, 1), ("never", 0, 0)]
)
async def test_fsync_policies(
    make_component: Callable[..., Any], policy: str, fsyncs_after_two_writes: int, fsyncs_after_close: int
) -> None:
    sink = make_component(JsonlSink, {"fsync": policy, "fsync_interval": "1h"})
    with trio.fail_after(10):
        async with sink:
            await sink.write(records_at(AFTER, 1)[:1])  # one file; "interval" is first due an hour after open
            await sink.write(records_at(AFTER, 1)[:1])
            assert sink.runtime.stats.extra["archive"]["fsyncs"] == fsyncs_after_two_writes
            files = sink._files
    assert files is not None and files.fsyncs == fsyncs_after_close
    assert len(list(read_jsonl(sink.directory / "metrics-2025-11-28.jsonl"))) == 2


async def test_values_orjson_cannot_encode_are_still_written(make_component: Callable[..., Any]) -> None:
    huge = Metric("big", {"v": 2**70}, AFTER)
    with trio.fail_after(10):
        async with make_component(JsonlSink) as sink:
            await sink.write([huge])
    (line,) = (sink.directory / "metrics-2025-11-28.jsonl").read_text().splitlines()
    assert json.loads(line)["fields"] == {"v": 2**70}
    assert sink.runtime.stats.extra["archive"]["encode_fallbacks"] == 1


async def test_a_failed_batch_is_cut_back_and_reported_with_the_path(make_component: Callable[..., Any]) -> None:
    with trio.fail_after(10):
        async with make_component(JsonlSink) as sink:
            await sink.write(records_at(AFTER, 1)[:1])
            path = sink.directory / "metrics-2025-11-28.jsonl"
            before = path.read_bytes()
            big = [Metric("cpu", {"pad": "x" * 1000}, AFTER) for _ in range(100)]
            # A real write failure: the file-size limit makes write() fail with EFBIG, as a full disk would.
            soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
            previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 20_000, hard))
            try:
                with pytest.raises(OSError, match=r"batch of 100 records not written to .*metrics-2025-11-28"):
                    await sink.write(big)
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
                signal.signal(signal.SIGXFSZ, previous)
            assert path.read_bytes() == before  # nothing half-written
            await sink.write(big[:2])
    assert len(list(read_jsonl(path))) == 3


async def test_uncreatable_directory_fails_at_open_naming_it(
    make_component: Callable[..., Any], tmp_path: Path
) -> None:
    blocker = tmp_path / "plain_file"
    blocker.write_text("not a directory")
    sink = make_component(JsonlSink, {"directory": str(blocker / "jsonl")})
    with trio.fail_after(10), pytest.raises(OSError, match=r"plain_file/jsonl"):
        await sink.open()


async def test_interval_policy_syncs_once_the_interval_passed(
    make_component: Callable[..., Any], mock_clock: trio.testing.MockClock
) -> None:
    # A mock clock moved by hand: the autojump clock would leap ahead while the writer thread works.
    sink = make_component(JsonlSink, {"fsync": "interval", "fsync_interval": "5s"})
    async with sink:
        await sink.write(records_at(AFTER, 1)[:1])
        mock_clock.jump(4.9)
        await sink.write(records_at(AFTER, 1)[:1])
        before = sink.runtime.stats.extra["archive"]["fsyncs"]
        mock_clock.jump(0.1)
        await sink.write(records_at(AFTER, 1)[:1])
        after = sink.runtime.stats.extra["archive"]["fsyncs"]
    assert (before, after) == (0, 1)


async def test_a_timestamp_no_file_can_hold_costs_only_its_record(make_component: Callable[..., Any]) -> None:
    """Issue 13: a timestamp beyond int64 failed the whole batch in the archive; now only that record is refused."""
    from flcollector import RecordsRejected

    good = records_at(AFTER, 3)
    with trio.fail_after(10):
        async with make_component(JsonlSink) as sink:
            with pytest.raises(RecordsRejected) as caught:
                await sink.write([good[0], Metric("pp", {"v": 1}, 99999999999999999999999), *good[1:]])
    assert [index for index, _ in caught.value.rejected] == [1]
    lines = (sink.directory / "metrics-2025-11-28.jsonl").read_text().splitlines()
    events = (sink.directory / "events-2025-11-28.jsonl").read_text().splitlines()
    assert len(lines) == 3 and len(events) == 1
    assert sink.runtime.stats.counters["lines_written"] == 4
