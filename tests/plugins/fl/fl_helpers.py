"""Helpers for the ``fl`` monitor tests: collecting in a loop and exactly-once assertions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pytest
import trio
from flcollector import Event, Metric, Record, SourceUnavailable
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.plugins.fl.convert import time_ns_of
from flcollector.plugins.fl.monitor import FlMonitor


async def collect(monitor: FlMonitor, into: list[Record]) -> list[Record]:
    """Collect once, append the records to ``into`` and return them."""
    records = list(await monitor.collect())
    into.extend(records)
    return records


async def one_poll(monitor: FlMonitor, emulator: FlServerEmulator, rounds: int) -> list[Record]:
    """Open ``monitor``, play ``rounds`` rounds, collect once, close; return the records (within 10 s)."""
    with trio.fail_after(10):
        await monitor.open()
        for _ in range(rounds):
            await emulator.step()
        records = await collect(monitor, [])
        await monitor.close()
    return records


async def collect_down(monitor: FlMonitor) -> str:
    """Collect once and return the SourceUnavailable message (fails the test if nothing was raised)."""
    with pytest.raises(SourceUnavailable) as info:
        await monitor.collect()
    return str(info.value)


def round_keys(records: Iterable[Record]) -> Counter[tuple[int, int]]:
    """(round, time_ns) of every ``fl_round`` metric, counted."""
    return Counter((r.round, r.time_ns) for r in records if isinstance(r, Metric) and r.name == "fl_round")


def produced_round_keys(emulator: FlServerEmulator) -> set[tuple[int, int]]:
    """(round, time_ns) of every row the emulator ever wrote."""
    return {(row["round"], time_ns_of(row["timestamp"])) for row in emulator.produced_rounds}


def event_ids(records: Iterable[Record]) -> Counter[str]:
    """The FL server's event_id (our ``origin_id``) of every FL event, counted."""
    return Counter(r.origin_id for r in records if isinstance(r, Event) and r.origin_id is not None)


def assert_exactly_once(records: list[Record], emulator: FlServerEmulator) -> None:
    """Every round and event the emulator produced is in ``records`` exactly once, and nothing else."""
    rounds = round_keys(records)
    assert rounds and max(rounds.values()) == 1, "a round was stored twice"
    assert set(rounds) == produced_round_keys(emulator)
    events = event_ids(records)
    assert events and max(events.values()) == 1, "an event was stored twice"
    assert set(events) == {e["event_id"] for e in emulator.produced_events}


async def back_up(emulator: FlServerEmulator) -> None:
    """Clear the emulator's fault and return once it listens again (the base Emulator has no event for that)."""
    emulator.set_fault(None)
    assert emulator.url is not None
    port = int(emulator.url.rsplit(":", 1)[1])
    while True:
        try:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
        except OSError:
            await trio.sleep(0.005)
            continue
        await stream.aclose()
        return
