"""A round that spans an agent restart: the second agent rebuilds the round from the store and finishes it with what
moved before, during and after the restart (the real agent, the real SQLite store, emulated FL server and SDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
from flcollector import EventQuery, Metric
from flcollector.agent import Agent, run_agent
from flcollector.config import load_config
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.emulators.sdn_controller import SdnControllerEmulator

CLIENT1_PER_TICK = 100_000 + 500 + 60  # its update to the FL server, its policy checks, one ARP broadcast


def config(tmp_path: Path, fl: FlServerEmulator, sdn: SdnControllerEmulator) -> Any:
    path = tmp_path / "collector.toml"
    path.write_text(
        f'[agent]\ndata_dir = "{tmp_path / "data"}"\nself_metrics_interval = "0s"\n'
        f'[[monitors.fl]]\nurl = "{fl.url}"\ninterval = "50ms"\n'
        f'[[monitors.sdn]]\nurl = "{sdn.url}"\ninterval = "50ms"\n'
        '[[processors.rounds]]\nsettle = "300ms"\nupdate_interval = "100ms"\n'
        '[[sinks.sqlite]]\nflush_interval = "10ms"\n'
    )
    return load_config(path, env={})


async def until(batches: Any, wanted: Any) -> list[Any]:
    """Read batches until ``wanted(record)`` holds for one; return the records read."""
    seen: list[Any] = []
    async for batch in batches:
        seen += batch
        if any(wanted(r) for r in batch):
            return seen
    raise AssertionError("the agent stopped")


def peer_moved(record: Any) -> bool:
    return isinstance(record, Metric) and record.name == "sdn_fl_peer" and record.fields["bytes_to_server"] > 0


async def ticks(agent: Agent, sdn: SdnControllerEmulator, count: int) -> None:
    """Move ``count`` ticks of traffic, each seen by a poll before the next."""
    async with agent.observe() as batches:
        await until(batches, lambda r: isinstance(r, Metric) and r.name == "sdn_port")  # a baseline first
        for _ in range(count):
            sdn.advance_counters()
            await until(batches, peer_moved)


async def test_a_round_that_spans_an_agent_restart_keeps_what_moved_before_it(tmp_path: Path,
                                                                                nursery: trio.Nursery) -> None:
    fl, sdn = FlServerEmulator(num_clients=2, max_rounds=5, seed=3), SdnControllerEmulator("ryu", background=False)
    for emulator in (fl, sdn):
        await nursery.start(emulator.serve)
    with trio.fail_after(30):
        async with trio.open_nursery() as first:
            agent: Agent = await first.start(run_agent, config(tmp_path, fl, sdn))
            await ticks(agent, sdn, 2)
            agent.stop()
        sdn.advance_counters()  # while no agent runs
        async with trio.open_nursery() as second:
            agent = await second.start(run_agent, config(tmp_path, fl, sdn))
            await ticks(agent, sdn, 2)
            async with agent.observe() as batches:
                await fl.step()  # round 1 ends now: every tick above fell in it
                seen = await until(batches, lambda r: getattr(r, "name", "") == "fl_round_network"
                                   and r.round == 1 and r.fields["complete"])
            assert agent.store is not None
            starts = await agent.store.query_events(EventQuery(types=["AGENT_STARTED"]))
            agent.stop()
    row = [r for r in seen if getattr(r, "name", "") == "fl_round_network"][-1]
    client = [r for r in seen if getattr(r, "name", "") == "fl_round_client" and r.tags["client"] == "fl-client-1"][-1]
    # the port counters carry every tick, the one while no agent ran included: the second agent took the first's
    # last reading from the store as its baseline
    assert client.fields["port_rx_bytes"] == pytest.approx(5 * CLIENT1_PER_TICK)
    # the flow deltas start again with the second agent's monitor: the tick during the restart is not in them
    assert client.fields["bytes_to_server"] == pytest.approx(4 * 100_000)
    assert row.fields["accuracy"] == fl.rounds[1]["accuracy"] and row.round == 1
    assert 0 < row.fields["coverage_sdn"] < 1 and row.fields["coverage_fl"] == row.fields["coverage_sdn"]
    assert [e.details["previous_record_ns"] is None for e in starts] == [True, False]  # the second saw a gap
    assert starts[0].details["config_hash"] == starts[1].details["config_hash"]  # the same configuration
