"""The three storage sinks inside a real agent: the pipeline's event ids reach the store, archive and cache alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio
from flcollector import Event, EventQuery, Metric, MetricQuery
from flcollector.agent import run_agent
from flcollector.config import load_config
from flcollector.plugins.jsonl import read_archive
from flcollector.plugins.sqlite import SqliteStore


async def test_records_sent_to_the_agent_land_in_every_storage_sink(
    tmp_path: Path, make_component: Callable[..., Any]
) -> None:
    data_dir = tmp_path / "data"  # the directory make_component uses too, so the store can be reopened after
    config_file = tmp_path / "agent.toml"
    config_file.write_text(
        f'[agent]\ndata_dir = "{data_dir}"\nself_metrics_interval = "0s"\n'
        "[[sinks.sqlite]]\n[[sinks.jsonl]]\n[[sinks.cache]]\n"
    )
    config = load_config(config_file, env={})
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            agent = await nursery.start(run_agent, config)
            cache = agent.find("sink", "cache")
            await agent.send([Metric("cpu", {"percent": 12.5, "cores": 4}, tags={"host": "n1"}), Event("ROUND")])
            await agent.send([Event("ROUND", "round 2")])
            agent.stop()  # run_agent returns once every sink flushed and closed
        async with make_component(SqliteStore) as store:
            stored_events = await store.query_events(EventQuery())
            (stored_metric,) = await store.query_metrics(MetricQuery(names=["cpu"]))
    ids = [e.id for e in stored_events]
    assert len(ids) == 2 and ids[0] is not None and ids[1] is not None and ids[0] < ids[1]
    archived = list(read_archive(data_dir / "jsonl", "events"))
    assert [(e.kind, getattr(e, "id", None)) for e in archived] == [("event", i) for i in ids]
    cached = cache.latest("ROUND", kind="event")
    assert isinstance(cached, Event) and cached.id == ids[1]
    assert stored_metric.fields == {"percent": 12.5, "cores": 4} and stored_metric.tags == {"host": "n1"}
