"""The ``fl`` monitor run by the real agent into the real SQLite store, across a collector restart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import trio
from fl_helpers import collect, produced_round_keys
from flcollector import Event, EventQuery, MetricQuery, Record
from flcollector.agent import Agent, run_agent
from flcollector.config import load_config
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.plugins.fl.monitor import FlMonitor
from flcollector.plugins.sqlite import SqliteStore


async def stored(store: Any) -> tuple[Counter[tuple[int, int]], Counter[str]]:
    """(round, time_ns) of the stored ``fl_round`` metrics and ids of the stored FL events, counted."""
    rounds = await store.query_metrics(MetricQuery(names=["fl_round"], limit=100_000))
    events = await store.query_events(EventQuery(source="fl_server", limit=100_000))
    return (
        Counter((m.round, m.time_ns) for m in rounds),
        Counter(e.origin_id for e in events if e.origin_id is not None),
    )


def assert_store_exactly_once(rounds: Counter[tuple[int, int]], events: Counter[str], emulator: Any) -> None:
    """The store holds every round and event the emulator produced, each once."""
    assert max(rounds.values()) == 1 and set(rounds) == produced_round_keys(emulator)
    assert max(events.values()) == 1 and set(events) == {e["event_id"] for e in emulator.produced_events}


async def run_until_caught_up(config: Any, emulator: FlServerEmulator) -> Agent:
    """Run the agent until its fl monitor has every round the emulator produced, then stop it (sinks flush)."""
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(run_agent, config)
        monitor = agent.find("monitor", "fl")
        assert monitor is not None
        async with agent.observe() as batches:
            async for _ in batches:  # woken by every batch; the monitor polls every 20 ms
                if monitor.ledger.keys >= produced_round_keys(emulator):
                    break
        agent.stop()
    return agent


async def test_agent_stores_everything_once_across_a_collector_restart(tmp_path: Path, nursery: trio.Nursery) -> None:
    emulator = FlServerEmulator(num_clients=3, max_rounds=20, seed=11)
    await nursery.start(emulator.serve)
    path = tmp_path / "collector.toml"
    path.write_text(
        f'[agent]\ndata_dir = "{tmp_path / "data"}"\nself_metrics_interval = "0s"\n'
        f'[[monitors.fl]]\nurl = "{emulator.url}"\ninterval = "20ms"\ntimeout = "2s"\n'
        '[[sinks.sqlite]]\nflush_interval = "10ms"\n'
    )
    config = load_config(path, env={})
    with trio.fail_after(15):
        for _ in range(3):
            await emulator.step()
        first = await run_until_caught_up(config, emulator)
        for _ in range(4):  # rounds finish while the collector is stopped
            await emulator.step()
        await run_until_caught_up(config, emulator)
        store: SqliteStore = SqliteStore(SqliteStore.Options(), first.find("sink", "sqlite").runtime)
        await store.open()
        rounds, events = await stored(store)
        latest = await store.query_metrics(MetricQuery(names=["fl_server"], limit=1))
        await store.close()
    assert_store_exactly_once(rounds, events, emulator)
    assert first.find("monitor", "fl").client.timeout.read == 2.0  # httpx's timeout follows the core's
    assert latest and latest[0].fields["current_round"] == 7 and latest[0].experiment is not None


async def test_recall_from_the_store_makes_a_new_monitor_store_nothing_twice(
    make_component: Callable[..., Any], fl_server: FlServerEmulator
) -> None:
    with trio.fail_after(10):
        store = make_component(SqliteStore, {})
        await store.open()
        first: FlMonitor = make_component(FlMonitor, {"url": fl_server.url}, instance="fl")
        await first.open()
        for _ in range(3):
            await fl_server.step()
        records: list[Record] = []
        await collect(first, records)
        await first.close()
        # what the pipeline does before the sinks: assign event ids
        await store.write([attrs.evolve(r, id=i) if isinstance(r, Event) else r for i, r in enumerate(records, 1)])
        for _ in range(2):
            await fl_server.step()
        second = make_component(FlMonitor, {"url": fl_server.url}, instance="fl-2", agent=SimpleNamespace(store=store))
        await second.open()
        again = await collect(second, [])
        await second.close()
        await store.close()
    assert second.experiment == first.experiment  # same server run: the experiment name is recalled
    assert sorted(r.round or 0 for r in again if getattr(r, "name", "") == "fl_round") == [4, 5]
    new_ids = {r.origin_id for r in again if isinstance(r, Event) and r.origin_id is not None}
    assert new_ids == {e["event_id"] for e in fl_server.produced_events[-8:]}
