"""Fixtures for the tests of the server, dashboard and websocket plugins: a real Agent (pipeline, the server on
127.0.0.1:0, the websocket sink) over an in-memory store or the real sqlite one.

The in-memory store is a real :class:`~flcollector.Sink` implementing the :class:`~flcollector.Store` protocol,
registered as an in-process plugin, so records reach it through the real pipeline exactly as they reach sqlite.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import trio
from flcollector import Event, EventQuery, Metric, MetricQuery, Record, Sink, hookimpl
from flcollector.agent import Agent
from flcollector.config import load_config
from flcollector.loader import load_registry
from flcollector.plugins.sqlite import SqliteStore


class WriteSignal:
    """Counts records written and wakes waiters, so tests await the store instead of sleeping."""

    def __init__(self) -> None:
        self.count = 0
        self._event = trio.Event()

    def written(self, n: int) -> None:
        self.count += n
        self._event.set()
        self._event = trio.Event()

    async def wait_for(self, count: int) -> None:
        while self.count < count:
            await self._event.wait()


class SignalingSqlite(SqliteStore):
    """The real sqlite store, telling tests when a batch was committed."""

    name = "sqlite_signal"

    async def open(self) -> None:
        await super().open()
        self.signal = WriteSignal()

    async def write(self, batch: Sequence[Record]) -> None:
        await super().write(batch)
        self.signal.written(len(batch))

    async def wait_for(self, count: int) -> None:
        """Wait until ``count`` records were committed in total."""
        await self.signal.wait_for(count)


class MemoryStore(Sink):
    """A list-backed store; ``wait_for(n)`` awaits until ``n`` records were written (no sleeps in tests)."""

    name = "memstore"
    durable = True  # a store's stand-in: the durable ingest acknowledgement waits for it, as for sqlite

    async def open(self) -> None:
        self.metrics: list[Metric] = []
        self.events: list[Event] = []
        self.signal = WriteSignal()

    async def write(self, batch: Sequence[Record]) -> None:
        for record in batch:
            (self.events if isinstance(record, Event) else self.metrics).append(record)
        self.signal.written(len(batch))

    async def wait_for(self, count: int) -> None:
        """Wait until ``count`` records were written in total."""
        await self.signal.wait_for(count)

    def _metrics(self, q: MetricQuery) -> list[Metric]:
        out = [
            m
            for m in self.metrics
            if (q.names is None or m.name in q.names)
            and (q.name_prefix is None or m.name.startswith(q.name_prefix))
            and (q.source is None or m.source == q.source)
            and (q.experiment is None or m.experiment == q.experiment)
            and (q.round is None or m.round == q.round)
            and (q.min_round is None or (m.round is not None and m.round >= q.min_round))
            and (q.max_round is None or (m.round is not None and m.round <= q.max_round))
            and (q.start_ns is None or m.time_ns >= q.start_ns)
            and (q.end_ns is None or m.time_ns <= q.end_ns)
            and all(m.tags.get(k) == v for k, v in q.tags.items())
        ]
        return sorted(out, key=lambda m: m.time_ns, reverse=q.order == "desc")

    def _events(self, q: EventQuery) -> list[Event]:
        out = [
            e
            for e in self.events
            if (q.since_id is None or (e.id or 0) > q.since_id)
            and (q.types is None or e.type in q.types)
            and (q.source is None or e.source == q.source)
            and (q.levels is None or e.level in q.levels)
            and (q.experiment is None or e.experiment == q.experiment)
            and (q.round is None or e.round == q.round)
            and (q.start_ns is None or e.time_ns >= q.start_ns)
            and (q.end_ns is None or e.time_ns <= q.end_ns)
        ]
        key = (lambda e: (e.time_ns, e.id or 0)) if q.sort == "time" else (lambda e: e.id or 0)
        return sorted(out, key=key, reverse=q.order == "desc")

    async def query_metrics(self, query: MetricQuery) -> list[Metric]:
        return self._metrics(query)[query.offset : query.offset + query.limit]

    async def count_metrics(self, query: MetricQuery) -> int:
        return len(self._metrics(query))

    async def query_events(self, query: EventQuery) -> list[Event]:
        return self._events(query)[query.offset : query.offset + query.limit]

    async def count_events(self, query: EventQuery) -> int:
        return len(self._events(query))

    async def latest_metrics(
        self, names: Sequence[str] | None = None, source: str | None = None, experiment: str | None = None
    ) -> list[Metric]:
        latest: dict[tuple[str, tuple[tuple[str, str], ...]], Metric] = {}
        for m in self._metrics(MetricQuery(names=names, source=source, experiment=experiment, order="asc")):
            latest[(m.name, tuple(sorted(m.tags.items())))] = m
        return list(latest.values())

    async def latest_event(self, type: str, source: str | None = None) -> Event | None:
        found = self._events(EventQuery(types=[type], source=source, order="desc"))
        return found[0] if found else None

    async def metric_names(self) -> list[str]:
        return sorted({m.name for m in self.metrics})

    async def event_counts(self, query: EventQuery, by: Literal["level", "source", "type"]) -> dict[str, int]:
        return dict(Counter(getattr(e, by) for e in self._events(query)))

    async def max_event_id(self) -> int:
        return max((e.id or 0 for e in self.events), default=0)

    async def info(self) -> dict[str, Any]:
        return {"path": None, "metrics": len(self.metrics), "events": len(self.events)}


class MemoryStorePlugin:
    """In-process plugin registering :class:`MemoryStore`."""

    @hookimpl
    def register_sinks(self) -> list[type]:
        return [MemoryStore, SignalingSqlite]


BASE_CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"
experiment = "exp_test"

[[sinks.{store}]]
flush_interval = "5ms"
{store_options}
{websocket}
[server]
port = {port}

"""
#: The websocket sink as the tests run it: records reach the clients within milliseconds.
WEBSOCKET = '[[sinks.websocket]]\nflush_interval = "5ms"\n'



class Running:
    """A running agent with its server: ``url``, ``client`` (httpx), ``store`` and ``send()``."""

    def __init__(self, agent: Agent, client: httpx.AsyncClient) -> None:
        self.agent = agent
        self.client = client
        self.store: Any = agent.store
        self.server: Any = agent.find("listener", "server")
        self.url: str = self.server.url

    async def send(self, records: Sequence[Record]) -> None:
        """Push records through the pipeline and wait until the store has them."""
        before = self.store.signal.count
        await self.agent.send(records)
        await self.store.wait_for(before + len(records))

    async def stored_metrics(self) -> list[Metric]:
        """Every stored metric, oldest first (through the Store protocol, whichever store runs)."""
        return await self.store.query_metrics(MetricQuery(limit=10_000, order="asc"))

    async def stored_events(self) -> list[Event]:
        """Every stored event, by id."""
        return await self.store.query_events(EventQuery(limit=10_000))


STORES = {"memstore": "", "sqlite_signal": 'retention = "0s"'}


async def start_agent(
    nursery: trio.Nursery,
    tmp_path: Path,
    extra: str = "",
    store: str = "memstore",
    port: int = 0,
    websocket: str | None = "",
    plugins: Sequence[tuple[str, object]] = (),
) -> Agent:
    """Start an agent with ``store``, the server on port 0 (plus ``extra`` TOML for [server]) and the websocket
    sink (plus ``websocket`` TOML for its table; None leaves the sink out); ``plugins`` are in-process plugins."""
    path = tmp_path / f"collector-{store}.toml"
    data = tmp_path / f"data-{store}"
    ws = "" if websocket is None else WEBSOCKET + websocket
    text = BASE_CONFIG.format(data=data, store=store, store_options=STORES[store], port=port, websocket=ws)
    path.write_text(text + extra)
    registry = load_registry(extra=[("memstore", MemoryStorePlugin()), *plugins])
    config = load_config(path, env={}, registry=registry)
    agent = Agent(config)
    return await nursery.start(agent.run)


@pytest.fixture
def start_server(nursery: trio.Nursery, tmp_path: Path) -> Callable[..., Awaitable[Agent]]:
    """Return ``start(extra_toml, port=0, websocket="", plugins=(), within=None, store="memstore")``: starts another
    agent with :func:`start_agent`'s arguments, in the test's nursery or in ``within``; the test stops it."""
    started = 0

    async def start(
        extra: str = "",
        port: int = 0,
        websocket: str | None = "",
        plugins: Sequence[tuple[str, object]] = (),
        within: trio.Nursery | None = None,
        store: str = "memstore",
    ) -> Agent:
        nonlocal started
        started += 1
        folder = tmp_path / f"agent-{started}"
        folder.mkdir()
        return await start_agent(
            within or nursery, folder, extra, store=store, port=port, websocket=websocket, plugins=plugins
        )

    return start


@pytest.fixture(params=list(STORES))
async def running(request: pytest.FixtureRequest, nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[Running]:
    """A running agent with the server, over the memory store and over the real sqlite store; stopped after."""
    agent = await start_agent(nursery, tmp_path, store=request.param)
    async with httpx.AsyncClient(base_url=agent.find("listener", "server").url, timeout=10) as client:
        yield Running(agent, client)
    agent.stop()
