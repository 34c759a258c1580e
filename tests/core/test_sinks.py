"""The batcher of each sink (flcollector.sinks): retries, bad records isolated, storage failures told and counted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import trio
from flcollector import Event, Metric, Record, RecordsRejected, Sink, StorageError
from flcollector.settings import SinkCommon
from flcollector.sinks import SPLIT_BUDGET, SinkRunner


class PickySink(Sink):
    """Fails every batch holding a record with a ``poison`` field, as SQLite fails a batch with one huge integer."""

    name = "picky"

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.written: list[Record] = []
        self.calls = 0

    async def write(self, batch: Sequence[Record]) -> None:
        self.calls += 1
        if any(isinstance(r, Metric) and "poison" in r.fields for r in batch):
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        self.written.extend(batch)


class FullDisk(Sink):
    """A durable sink whose storage is full until ``full`` is cleared."""

    name = "fulldisk"
    durable = True

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.full = True
        self.written: list[Record] = []

    async def write(self, batch: Sequence[Record]) -> None:
        if self.full:
            raise StorageError("database or disk is full")
        self.written.extend(batch)


class SelfIsolating(Sink):
    """Writes all but the records with a ``poison`` field itself, and says which it left out."""

    name = "isolating"

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.written: list[Record] = []

    async def write(self, batch: Sequence[Record]) -> None:
        bad = [(i, "poison") for i, r in enumerate(batch) if isinstance(r, Metric) and "poison" in r.fields]
        self.written.extend(r for i, r in enumerate(batch) if i not in dict(bad))
        if bad:
            raise RecordsRejected(bad)


def _runner(make_component: Callable[..., Any], cls: type, notify: Any = None, **common: Any) -> SinkRunner:
    sink = make_component(cls)
    return SinkRunner(sink, SinkCommon(**common), sink.log, notify)


def _batch(n: int, poison: set[int] = frozenset()) -> list[Record]:  # type: ignore[assignment]
    return [Metric("m", {"i": i, **({"poison": 1} if i in poison else {})}) for i in range(n)]


async def test_one_bad_record_costs_only_itself(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    runner = _runner(make_component, PickySink, retries=1)
    problem = await runner._write(_batch(1000, poison={417}))
    sink: PickySink = runner.sink  # type: ignore[assignment]
    assert [r.fields["i"] for r in sink.written] == [i for i in range(1000) if i != 417]  # type: ignore[union-attr]
    stats = runner.stats.counters
    assert stats["rejected"] == 1 and stats["dropped"] == 1 and stats["records_out"] == 999
    assert problem is not None and "1 of 1000" in problem
    assert sink.calls <= 2 + 2 * 10 + 2  # two tries of the whole, then about 2 log2(1000) halves


async def test_splitting_is_bounded_when_everything_fails(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    runner = _runner(make_component, PickySink, retries=0)
    await runner._write(_batch(1000, poison=set(range(1000))))
    sink: PickySink = runner.sink  # type: ignore[assignment]
    assert sink.calls <= 1 + SPLIT_BUDGET
    assert runner.stats.counters["dropped"] == 1000 and not sink.written


async def test_a_sink_that_isolates_bad_records_itself_keeps_the_rest(make_component) -> None:  # type: ignore[no-untyped-def]
    runner = _runner(make_component, SelfIsolating)
    problem = await runner._write(_batch(10, poison={2, 5}))
    assert problem is not None and problem.startswith("2 records rejected")
    assert len(runner.sink.written) == 8  # type: ignore[attr-defined]
    counters = runner.stats.counters
    assert counters["rejected"] == 2 and counters["dropped"] == 2 and counters["records_out"] == 8


async def test_a_storage_failure_is_retried_never_split_and_told_once(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    told: list[Event] = []
    runner = _runner(make_component, FullDisk, notify=told.extend, retries=2)
    sink: FullDisk = runner.sink  # type: ignore[assignment]
    assert await runner._write(_batch(100)) is not None
    assert await runner._write(_batch(50)) is not None
    assert runner.stats.counters["dropped"] == 150 and runner.stats.counters["rejected"] == 0
    assert runner.stats.status == "error" and runner.failing_since_ns is not None
    assert [e.type for e in told] == ["STORAGE_FAILED"] and told[0].level == "ERROR"
    assert told[0].details["sink"] == "fulldisk" and "full" in told[0].details["error"]
    sink.full = False
    assert await runner._write(_batch(5)) is None
    assert [e.type for e in told] == ["STORAGE_FAILED", "STORAGE_RECOVERED"]
    assert told[1].details["dropped"] == 150 and told[1].details["downtime_s"] >= 0
    assert runner.stats.status == "ok" and runner.failing_since_ns is None and len(sink.written) == 5


async def test_an_os_error_counts_as_a_storage_failure(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    class Readonly(PickySink):
        name = "readonly"

        async def write(self, batch: Sequence[Record]) -> None:
            self.calls += 1
            raise OSError(30, "Read-only file system")

    runner = _runner(make_component, Readonly, retries=1)
    await runner._write(_batch(100))
    assert runner.sink.calls == 2  # type: ignore[attr-defined]  # tried twice, never split
    assert runner.stats.counters["dropped"] == 100


async def test_run_settles_the_buffer_after_each_write(make_component) -> None:  # type: ignore[no-untyped-def]
    from flcollector import Receipt

    runner = _runner(make_component, PickySink, retries=0, flush_interval=10.0)
    receipt = Receipt()
    receipt.expect(1)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(runner.run)
            await runner.buffer.put(_batch(3), receipt)
            assert await receipt.wait()  # written at once, not after the 10 s flush interval
            runner.buffer.close()
    assert len(runner.sink.written) == 3  # type: ignore[attr-defined]
