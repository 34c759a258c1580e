"""The pipeline (flcollector.pipeline): records checked at the edge, refusals counted on their sender, receipts."""

from __future__ import annotations

import trio
from core_fakes import MemorySink
from flcollector import Event, Metric, Receipt
from flcollector.agent import Agent, run_agent


async def test_a_monitors_bad_record_is_refused_and_named_and_its_batch_goes_on(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        '[[monitors.scripted]]\ninterval = "10ms"\nscript = ["huge"]\ncount = 2\n'
        '[[sinks.memory]]\nflush_interval = "10ms"\n',
        overrides={"agent.self_metrics_interval": "0s"},
    )
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(run_agent, config)
            sink = MemorySink.instances["memory"]
            while not any(isinstance(r, Event) and r.type == "RECORD_REJECTED" for r in sink.written):
                await sink.got_data.wait()
                sink.got_data = trio.Event()
            agent.stop()
    monitor = agent.stats.get("monitor", "scripted")
    assert monitor is not None and monitor.counters["rejected"] == 1 and monitor.counters["dropped"] == 1
    assert "fields.bytes" in (monitor.last_error or "") and monitor.status == "ok"
    (rejected,) = [r for r in sink.written if isinstance(r, Event) and r.type == "RECORD_REJECTED"]
    assert rejected.level == "ERROR" and rejected.details["field"] == "fields.bytes"
    assert rejected.details["component"] == "scripted" and rejected.details["count"] == 1
    first_call = [r for r in sink.written if isinstance(r, Metric) and r.fields.get("call") == 1]
    assert len(first_call) == 2  # the good records of the same collection were kept
    assert not any(isinstance(r, Metric) and "bytes" in r.fields for r in sink.written)
    assert agent.health()["dropped_total"] == 1


async def test_records_sent_by_a_plugin_are_checked_too(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config('[[sinks.memory]]\nflush_interval = "10ms"\n', overrides={"agent.self_metrics_interval": "0s"})
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(run_agent, config)
            agent.context.update(round=3)
            agent.context.update(round=10**30)  # ignored: it would make every record unstorable
            await agent.view.send([Metric("ok", {"v": 1}, source="p"), Metric("late", {"v": 1}, time_ns=2**63), "junk"])  # type: ignore[list-item]
            sink = MemorySink.instances["memory"]
            await sink.got_data.wait()
            agent.stop()
    core = agent.stats.get("core", "pipeline")
    assert core is not None and core.counters["rejected"] == 2 and agent.context.round == 3
    assert [r.name for r in sink.written if isinstance(r, Metric) and r.source != "flcollector"] == ["ok"]
    assert any(isinstance(r, Event) and r.type == "RECORD_REJECTED" and r.details["count"] == 2 for r in sink.written)


async def test_a_receipt_waits_for_every_durable_sink(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        '[[sinks.durable_memory]]\nname = "store"\nflush_interval = "10s"\n'
        '[[sinks.durable_memory]]\nname = "archive"\nflush_interval = "10s"\n'
        '[[sinks.memory]]\nname = "live"\nblock = true\nwhen_full = "drop_oldest"\n',
        overrides={"agent.self_metrics_interval": "0s", "agent.flush_grace": "0.1s"},
    )
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(run_agent, config)
            assert agent.durable_sinks == 2
            receipt = Receipt()
            await agent.send([Metric("m", {"v": 1})], receipt=receipt)
            assert await receipt.wait()  # at once: not after the 10 s flush interval, not waiting for "live"
            store, archive = MemorySink.instances["store"], MemorySink.instances["archive"]
            assert len(store.written) == len(archive.written) == 1
            agent.stop()


async def test_without_a_durable_sink_a_receipt_is_settled_once_processed(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config('[[sinks.memory]]\nblock = true\n', overrides={"agent.self_metrics_interval": "0s",
                                                                         "agent.flush_grace": "0.1s"})
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(run_agent, config)
            receipt = Receipt()
            await agent.send([Metric("m", {"v": 1})], receipt=receipt)
            assert await receipt.wait() and agent.durable_sinks == 0
            agent.stop()
