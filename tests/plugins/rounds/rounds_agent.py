"""An agent with the rounds processor, a store and the server, and an experiment's records to send it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
from flcollector import Event
from flcollector.agent import Agent, run_agent
from flcollector.config import load_config
from rounds_records import (
    CLIENT1,
    EXP,
    PORTS,
    fl_round,
    fl_server,
    gns3_poll,
    ns,
    outage,
    peer,
    port,
    topology,
    traffic,
)


def snapshot(at: float) -> Event:
    """A ``GNS3_PROJECT_SNAPSHOT`` with the FL server's uplink unconfigured."""
    uplink = {"link_id": "fl-server-openvswitch", "filters": {}, "suspend": False, "conditions": {"latency_ms": 0.0}}
    return Event("GNS3_PROJECT_SNAPSHOT", "s", ns(at), "gns3", details={"project": {"name": "p"}, "links": [uplink]})


def changed(at: float) -> Event:
    """``LINK_CONFIG_CHANGED``: the uplink gets 80 ms."""
    details = {"link_id": "fl-server-openvswitch", "filters_after": {"delay": [80, 0]}, "suspend_after": False,
               "after": {"latency_ms": 80.0, "rtt_added_ms": 160.0}}
    return Event("LINK_CONFIG_CHANGED", "c", ns(at), "gns3", details=details)


def experiment_records() -> list[list[Any]]:
    """Two rounds of an experiment, one batch per second, and a policy engine outage in round 2."""
    batches: list[list[Any]] = [[topology(0), snapshot(0.1), changed(0.3), port(0, PORTS[CLIENT1], 0, 0)]]
    for s in range(1, 12):
        batch: list[Any] = [port(s, PORTS[CLIENT1], 100_500 * s, 300_000 * s), peer(s, CLIENT1, 100_000, 300_000),
                            *traffic(s, 400_000, 1000, 0), *gns3_poll(s, 80), fl_server(s, "active", round_=s // 4)]
        batch += [fl_round(1, 0.5, 4.5)] if s == 5 else [fl_round(2, 4.5, 8.5)] if s == 9 else []
        batch += [outage("SOURCE_UNREACHABLE", 5.5)] if s == 6 else [outage("SOURCE_RECOVERED", 6.5)] if s == 7 else []
        batches.append(batch)
    batches.append([fl_server(12, "complete")])
    return batches


async def start_agent(tmp_path: Path, nursery: trio.Nursery, store: bool = True) -> Agent:
    path = tmp_path / "collector.toml"
    sink = '[[sinks.sqlite]]\nflush_interval = "10ms"\n' if store else '[[sinks.jsonl]]\n'
    path.write_text(f'[agent]\ndata_dir = "{tmp_path / "data"}"\nself_metrics_interval = "0s"\n'
                    f'[[processors.rounds]]\nsettle = "2s"\nupdate_interval = "1s"\n{sink}'
                    '[[listeners.export]]\nwait = "20s"\n[server]\nhost = "127.0.0.1"\nport = 0\n')
    agent: Agent = await nursery.start(run_agent, load_config(path, env={}))
    return agent


async def until_complete(agent: Agent) -> None:
    """Wait until the store's summary says the experiment is complete (the sqlite sink flushes every 10 ms)."""
    assert agent.store is not None
    while True:  # the sink writes on its own schedule: there is no event to wait for
        summaries = await agent.store.latest_metrics(names=["fl_experiment"])
        if any(m.fields.get("state") == "complete" for m in summaries):
            return
        await trio.sleep(0.02)


async def agent_with_experiment(tmp_path: Path, nursery: trio.Nursery) -> Agent:
    """An agent that has stored :func:`experiment_records` and the round table made of them."""
    agent = await start_agent(tmp_path, nursery)
    agent.context.update(experiment=EXP)  # as the fl monitor sets it: the pipeline stamps every record with it
    for batch in experiment_records():
        await agent.send(batch)
    await until_complete(agent)
    return agent
