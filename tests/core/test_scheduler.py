"""Polling rules: one UNREACHABLE / one RECOVERED per outage, back-off while down, overruns never stacked."""

from __future__ import annotations

import httpx
import trio
from core_fakes import ScriptedMonitor
from flcollector import Event, MalformedResponse, SourceUnavailable
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
