"""Polling rules: one UNREACHABLE / one RECOVERED per outage, back-off while down, overruns never stacked."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import trio
from core_fakes import ScriptedMonitor
from flcollector import Duration, Event, MalformedResponse, Schedule, SourceUnavailable
from flcollector.agent import Agent
from flcollector.scheduler import MonitorRunner, classify
from flcollector.settings import AgentSettings, MonitorCommon


def _runner(make_component, script, interval=1.0, timeout=None, max_backoff=30.0):  # type: ignore[no-untyped-def]
    monitor = make_component(ScriptedMonitor, {"count": 1, "script": script})
    emitted: list = []

    async def emit(batch):  # type: ignore[no-untyped-def]
        emitted.extend(batch)

    common = MonitorCommon(interval=interval, timeout=timeout)
    runner = MonitorRunner(monitor, common, AgentSettings(max_backoff=max_backoff), emit)  # type: ignore[arg-type]
    return monitor, runner, emitted


async def test_one_unreachable_and_one_recovered_event_per_outage(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    _, runner, emitted = _runner(make_component, ["ok", "down", "down", "down", "down", "ok", "ok"])
    with trio.move_on_after(600):
        await runner.run()
    types = [r.type for r in emitted if isinstance(r, Event) and r.type.startswith("SOURCE_")]
    assert types == ["SOURCE_UNREACHABLE", "SOURCE_RECOVERED"]
    assert runner.stats.status == "ok" and runner.stats.consecutive_failures == 0


async def test_backoff_grows_while_down_and_is_capped(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    monitor, runner, _ = _runner(make_component, ["down"] * 1000, interval=1.0, max_backoff=8.0)
    with trio.move_on_after(120):
        await runner.run()
    # hammering every second would be 120 calls; exponential back-off capped at 8 s needs far fewer
    assert 12 <= monitor.calls <= 40
    assert runner.stats.status == "down"


async def test_slow_collection_times_out_and_is_counted(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    _, runner, _ = _runner(make_component, ["slow", "ok"], interval=5.0, timeout=2.0)
    records, failure = await runner.collect_once()
    assert failure == "unavailable" and runner.stats.counters["timeouts"] == 1
    assert [r.type for r in records if isinstance(r, Event)] == ["SOURCE_UNREACHABLE"]
    records, failure = await runner.collect_once()
    assert failure is None and [r.type for r in records if isinstance(r, Event)] == ["SCRIPTED", "SOURCE_RECOVERED"]


async def test_overrun_is_counted_and_not_stacked(make_component, autojump_clock) -> None:  # type: ignore[no-untyped-def]
    # each "slow" collection takes 3.5 s against a 1 s interval and a 10 s timeout
    monitor, runner, _ = _runner(make_component, ["slow"] * 3, interval=1.0, timeout=10.0)
    monitor.options.slow_s = 3.5
    with trio.move_on_after(11.0):
        await runner.run()
    assert runner.stats.counters["overruns"] >= 6
    assert monitor.calls <= 6  # 3 slow ones (10.5 s) then at most a few quick ones, never a burst of catch-ups


def test_classify_maps_exceptions_to_outcomes() -> None:
    request = httpx.Request("GET", "http://127.0.0.1/")
    assert classify(SourceUnavailable("x")) == "unavailable"
    assert classify(httpx.ConnectError("refused", request=request)) == "unavailable"
    error_500 = httpx.HTTPStatusError("500", request=request, response=httpx.Response(500, request=request))
    assert classify(error_500) == "unavailable"
    assert classify(ExceptionGroup("g", [MalformedResponse("bad")])) == "malformed"
    assert classify(ExceptionGroup("g", [ZeroDivisionError()])) == "error"


def test_schedule_resolves_instance_keys_then_agent_keys() -> None:
    agent = AgentSettings(interval=Duration(2.0), jitter=Duration(0.5), max_backoff=Duration(30.0))
    assert Schedule.resolve(MonitorCommon(), agent) == Schedule(2.0, 0.5, 5.0, 30.0)  # timeout: never under 5 s
    own = MonitorCommon(interval=Duration(60.0), timeout=Duration(12.0), jitter=Duration(0.0))
    assert Schedule.resolve(own, agent) == Schedule(60.0, 0.0, 12.0, 60.0)  # back-off never under the interval
    assert Schedule.resolve(MonitorCommon(interval=Duration(8.0)), agent).timeout == 8.0


async def test_monitors_get_their_resolved_schedule_in_the_runtime(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        '[[monitors.scripted]]\nname = "slow"\ninterval = "30s"\ntimeout = "45s"\n'
        '[[monitors.scripted]]\nname = "quick"\n[[sinks.memory]]\n',
        overrides={"agent.interval": "1s"},
    )
    agent = Agent(config)
    async with AsyncExitStack() as stack:
        await agent.open_components(stack, "monitor")
        await agent.open_components(stack, "sink")
        slow, quick = agent.find("monitor", "slow"), agent.find("monitor", "quick")
        sink = agent.find("sink", "memory")
    assert slow.runtime.schedule == Schedule(interval=30.0, jitter=0.0, timeout=45.0, max_backoff=60.0)
    assert quick.runtime.schedule.interval == 1.0 and quick.runtime.schedule.timeout == 5.0
    assert sink.runtime.schedule == Schedule()  # other kinds: the defaults
