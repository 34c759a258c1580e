"""An in-process test plugin: a scriptable monitor, a memory sink and a processor, registered like any plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import trio
from flcollector import Event, MalformedResponse, Metric, Monitor, Processor, Record, Sink, SourceUnavailable, hookimpl


@attrs.define
class ScriptOptions:
    """Options of the scripted monitor."""

    count: int = 3
    script: list[str] = attrs.field(factory=list)  # per collection: ok | down | malformed | crash | slow | huge
    slow_s: float = 10.0


class ScriptedMonitor(Monitor):
    """Emits ``count`` metrics per collection, or fails as its script says (then keeps emitting)."""

    name = "scripted"
    Options = ScriptOptions

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.calls = 0
        self.produced: list[Record] = []

    async def collect(self) -> list[Record]:
        step = self.options.script[self.calls] if self.calls < len(self.options.script) else "ok"
        self.calls += 1
        if step == "down":
            raise SourceUnavailable("connection refused")
        if step == "malformed":
            raise MalformedResponse("expected a JSON object")
        if step == "crash":
            raise ZeroDivisionError("plugin bug")
        if step == "slow":
            await trio.sleep(self.options.slow_s)
        batch: list[Record] = [
            Metric(name="scripted", fields={"i": i, "call": self.calls}, source=self.runtime.instance)
            for i in range(self.options.count)
        ]
        batch.append(Event(type="SCRIPTED", message=f"call {self.calls}", source=self.runtime.instance))
        if step == "huge":  # an upstream counter beyond 64 bits, as a switch's uint64 counter can be
            batch.insert(1, Metric(name="scripted", fields={"bytes": 2**64 - 1}, source=self.runtime.instance))
        self.produced.extend(batch)
        return batch


@attrs.define
class MemoryOptions:
    """Options of the memory sink."""

    fail_times: int = 0
    block: bool = False  # never finish a write (to exercise the flush grace and drop policies)


class MemorySink(Sink):
    """Keeps every written record in ``written``; can fail or hang on purpose."""

    name = "memory"
    Options = MemoryOptions
    instances: dict[str, MemorySink] = {}

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.written: list[Record] = []
        self.batches = 0
        self.closed = False
        self.got_data = trio.Event()
        MemorySink.instances[runtime.instance] = self

    async def write(self, batch: Sequence[Record]) -> None:
        if self.options.block:
            await trio.sleep_forever()
        if self.options.fail_times > 0:
            self.options.fail_times -= 1
            raise OSError("disk full")
        self.written.extend(batch)
        self.batches += 1
        self.got_data.set()

    async def close(self) -> None:
        self.closed = True


class DurableMemorySink(MemorySink):
    """A memory sink that counts as durable (a store's stand-in): receipts wait for it."""

    name = "durable_memory"
    durable = True


class TagProcessor(Processor):
    """Adds a tag to every metric; raises on a batch that holds a metric named 'poison'."""

    name = "tagger"

    def process(self, batch: list[Record]) -> list[Record]:
        if any(isinstance(r, Metric) and r.name == "poison" for r in batch):
            raise RuntimeError("poisoned batch")
        return [attrs.evolve(r, tags={**r.tags, "seen": "yes"}) if isinstance(r, Metric) else r for r in batch]


class TestPlugin:
    """Registers the test components like any plugin."""

    @hookimpl
    def register_monitors(self) -> list[type]:
        return [ScriptedMonitor]

    @hookimpl
    def register_sinks(self) -> list[type]:
        return [MemorySink, DurableMemorySink]

    @hookimpl
    def register_processors(self) -> list[type]:
        return [TagProcessor]
