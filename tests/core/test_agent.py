"""The agent end to end in-process: stamping, ids, isolation, drop policies and flushing on stop."""

from __future__ import annotations

import trio
from core_fakes import MemorySink
from flcollector import Event, Metric
from flcollector.agent import Agent, run_agent


async def _run_until(agent: Agent, condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    """Wait for a condition on counters the agent updates (they have no event to await), bounded by a deadline."""
    with trio.fail_after(timeout):
        while not condition():  # noqa: ASYNC110 - polling plain counters, there is no event for them
            await trio.sleep(0.01)


async def test_records_reach_every_sink_with_context_and_increasing_ids(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        "[[monitors.scripted]]\ninterval = \"50ms\"\n[[sinks.memory]]\nname = \"a\"\nflush_interval = \"10ms\"\n"
        "[[sinks.memory]]\nname = \"b\"\nbatch_size = 2\n",
        overrides={"agent.experiment": "exp_1", "agent.self_metrics_interval": "0s"},
    )
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(run_agent, config)
        agent.context.update(round=7)
        monitor = agent.find("monitor", "scripted")
        await _run_until(agent, lambda: monitor.calls >= 3)
        agent.stop()
    a, b = MemorySink.instances["a"], MemorySink.instances["b"]
    assert a.closed and b.closed
    scripted = [r for r in a.written if r.source == "scripted"]
    assert len(scripted) == len(monitor.produced)
    assert [r for r in a.written] == [r for r in b.written]  # same records, same ids, same order
    assert all(r.experiment == "exp_1" for r in scripted)
    assert {r.round for r in scripted if r.time_ns > 0} >= {7}
    ids = [r.id for r in a.written if isinstance(r, Event)]
    assert all(i is not None for i in ids) and ids == sorted(ids) and len(set(ids)) == len(ids)
    # the final self-metrics batch closes the archive
    assert any(isinstance(r, Metric) and r.name == "flcollector_sink" for r in a.written)


async def test_failing_monitor_and_processor_do_not_stop_the_agent(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        '[[monitors.scripted]]\nname = "bad"\ninterval = "10ms"\nscript = ["crash", "malformed", "ok"]\n'
        '[[monitors.scripted]]\nname = "good"\ninterval = "10ms"\n'
        "[[processors.tagger]]\n[[sinks.memory]]\nflush_interval = \"10ms\"\n",
        overrides={"agent.self_metrics_interval": "0s"},
    )
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(run_agent, config)
        bad = agent.find("monitor", "bad")
        await agent.send([Metric(name="poison", fields={"x": 1})])
        await _run_until(agent, lambda: bad.calls >= 4)
        agent.stop()
    sink = MemorySink.instances["memory"]
    types = [r.type for r in sink.written if isinstance(r, Event)]
    assert "PLUGIN_ERROR" in types and "MALFORMED_RESPONSE" in types
    stats = agent.stats.get("monitor", "bad")
    assert stats is not None and stats.counters["errors"] == 1 and stats.counters["malformed"] == 1
    tagger = agent.stats.get("processor", "tagger")
    assert tagger is not None and tagger.counters["errors"] == 1
    poison = [r for r in sink.written if isinstance(r, Metric) and r.name == "poison"]
    assert poison and "seen" not in poison[0].tags  # passed on unchanged
    assert all(r.tags.get("seen") == "yes" for r in sink.written if isinstance(r, Metric) and r.name == "scripted")


async def test_failed_writes_are_retried_then_counted_as_dropped(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        "[[sinks.memory]]\nfail_times = 3\nretries = 1\nflush_interval = \"10ms\"\nbatch_size = 5\n",
        overrides={"agent.self_metrics_interval": "0s"},
    )
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(run_agent, config)
        sink = MemorySink.instances["memory"]
        await agent.send([Metric(name="m", fields={"i": i}) for i in range(5)])  # attempt 1 and 2 fail: dropped
        await _run_until(agent, lambda: agent.stats.get("sink", "memory").counters["dropped"] == 5)
        await agent.send([Metric(name="m", fields={"i": i}) for i in range(5, 10)])  # fails once, then written
        await sink.got_data.wait()
        agent.stop()
    stats = agent.stats.get("sink", "memory")
    assert stats.counters["errors"] == 3
    assert [r.fields["i"] for r in sink.written if r.name == "m"] == list(range(5, 10))
    assert agent.health()["status"] == "degraded"  # drops are shown


async def test_stuck_sink_is_cancelled_after_grace_and_its_records_counted(  # type: ignore[no-untyped-def]
    make_config, autojump_clock
) -> None:
    config = make_config(
        '[[sinks.memory]]\nname = "stuck"\nblock = true\nbatch_size = 10\nflush_interval = "10ms"\n'
        '[[sinks.memory]]\nname = "fine"\nflush_interval = "10ms"\n',
        overrides={"agent.self_metrics_interval": "0s", "agent.flush_grace": "2s"},
    )
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(run_agent, config)
        await agent.send([Metric(name="m", fields={"i": i}) for i in range(25)])
        await MemorySink.instances["fine"].got_data.wait()
        agent.stop()
    stuck = agent.stats.get("sink", "stuck")
    # 10 were in the write that hung, 15 still buffered, plus the final self-metrics batch
    assert stuck.counters["dropped"] >= 15
    assert len([r for r in MemorySink.instances["fine"].written if r.name == "m"]) == 25


async def test_drop_oldest_keeps_the_newest_and_counts(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        '[[sinks.memory]]\nblock = true\nbuffer_size = 10\nbatch_size = 1\nwhen_full = "drop_oldest"\n',
        overrides={"agent.self_metrics_interval": "0s", "agent.flush_grace": "0.1s"},
    )
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(run_agent, config)
        await agent.send([Metric(name="m", fields={"i": i}) for i in range(30)])
        stats = agent.stats.get("sink", "memory")
        # one batch of 30 into a buffer of 10: the 20 oldest are evicted; the batcher then takes one record
        # into the write that hangs, leaving nine buffered
        await _run_until(agent, lambda: stats.counters["records_in"] == 30 and stats.buffer_fill == 9)
        assert stats.counters["dropped"] == 20
        agent.stop()


async def test_observer_never_blocks_the_pipeline(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config('[[sinks.memory]]\nflush_interval = "10ms"\n', overrides={"agent.self_metrics_interval": "0s"})
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(run_agent, config)
        async with agent.observe(size=1) as receive:
            for i in range(5):
                await agent.send([Metric(name="m", fields={"i": i})])
            sink = MemorySink.instances["memory"]
            await _run_until(agent, lambda: len(sink.written) == 5)
            first = await receive.receive()
            assert first[0].fields["i"] == 0
        agent.stop()
