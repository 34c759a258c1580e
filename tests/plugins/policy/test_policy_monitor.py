"""The ``policy`` monitor against the emulated policy engine, in every fault mode: exactly-once storage."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
import trio
from flcollector import Event, MalformedResponse, Metric, Record, SourceUnavailable, component_name
from flcollector.emulators.policy_engine import PolicyEngineEmulator
from flcollector.plugins.policy.monitor import PolicyMonitor
from flcollector.plugins.sqlite import SqliteStore


class Harness:
    """An emulator, a monitor polling it, and every record the monitor returned so far."""

    def __init__(self, emulator: PolicyEngineEmulator, monitor: PolicyMonitor) -> None:
        self.emulator = emulator
        self.monitor = monitor
        self.records: list[Record] = []

    async def collect(self) -> list[Record]:
        got = list(await self.monitor.collect())
        self.records.extend(got)
        return got

    def events(self, kind: str) -> list[Event]:
        return [r for r in self.records if isinstance(r, Event) and r.type == kind]

    def metrics(self, name: str) -> list[Metric]:
        return [r for r in self.records if isinstance(r, Metric) and r.name == name]

    def assert_exactly_once(self) -> None:
        """Every decision and engine event served is stored once; nothing stored was never served."""
        decisions = self.events("POLICY_DECISION")
        decision_keys = Counter((e.details["id"], e.details["timestamp"]) for e in decisions)
        assert set(decision_keys) == set(self.emulator.served_decisions)
        assert max(decision_keys.values(), default=1) == 1
        assert all(e.origin_id == e.details["id"] for e in decisions)
        engine_ids = Counter(
            r.origin_id for r in self.records if isinstance(r, Event) and r.origin_id and r.type != "POLICY_DECISION"
        )
        assert set(engine_ids) == set(self.emulator.served_events)
        assert max(engine_ids.values(), default=1) == 1


async def _start(
    nursery: trio.Nursery, make_component: Callable[..., Any], emulator: PolicyEngineEmulator, **options: Any
) -> Harness:
    url = await nursery.start(emulator.serve)
    monitor = make_component(PolicyMonitor, {"url": url, **options})
    await monitor.open()
    return Harness(emulator, monitor)


@pytest.fixture
async def harness(nursery: trio.Nursery, make_component: Callable[..., Any]) -> AsyncIterator[Harness]:
    h = await _start(nursery, make_component, PolicyEngineEmulator())
    yield h
    await h.monitor.close()


async def test_decisions_events_and_counts_exactly_once(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        await harness.collect()
        for _ in range(3):
            await harness.emulator.step()
            await harness.collect()
        await harness.collect()  # nothing new: nothing stored twice
    harness.assert_exactly_once()
    decisions = harness.events("POLICY_DECISION")
    assert len(decisions) == len(harness.emulator.decisions) == 12
    for event in decisions:
        assert event.level == ("INFO" if event.details["result"] else "WARNING")
        assert event.source == "policy_engine"
        assert event.time_ns == int(event.details["timestamp"] * 1e9)
    last_counts = harness.metrics("decision_count")[-1].fields
    checks = harness.emulator.checks
    assert (last_counts["allowed"], last_counts["denied"], last_counts["total"]) == (
        checks["allowed"],
        checks["denied"],
        checks["total"],
    )
    policy_count = harness.metrics("policy_count")[-1].fields
    assert policy_count["total"] == len(harness.emulator.policies)
    assert policy_count["active"] == sum(1 for p in harness.emulator.policies.values() if p["enabled"])
    assert len(harness.metrics("policy_count")) == len(harness.metrics("decision_count")) == 5
    compliance = harness.metrics("policy_compliance")[-1].fields
    assert compliance["compliance_ratio"] == pytest.approx(checks["allowed"] / checks["total"])


async def test_down_raises_source_unavailable_then_recovers_without_loss(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        await harness.collect()
        harness.emulator.set_fault("down")
        await harness.emulator.wait_stopped()
        await harness.emulator.step()
        with pytest.raises(SourceUnavailable):
            await harness.collect()
        harness.emulator.set_fault(None)
        await harness.emulator.wait_listening()
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("POLICY_DECISION")) == 6


async def test_http_500_is_source_unavailable(harness: Harness) -> None:
    with trio.fail_after(10):
        harness.emulator.set_fault("error")
        await harness.emulator.step()
        with pytest.raises(SourceUnavailable, match="HTTP 500"):
            await harness.collect()
        harness.emulator.set_fault(None)
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("POLICY_DECISION")) == 3


async def test_slow_source_cut_by_timeout_loses_nothing(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        harness.emulator.set_fault("slow", slow_delay=0.3)
        with trio.move_on_after(0.1):  # the core's timeout cuts the poll short
            await harness.collect()
        assert harness.records == []
        await harness.collect()  # slow but within time
        harness.emulator.set_fault(None)
        await harness.emulator.step()
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("POLICY_DECISION")) == 6


async def test_malformed_everywhere_raises_malformed(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        harness.emulator.set_fault("malformed")
        with pytest.raises(MalformedResponse):
            await harness.collect()
        harness.emulator.set_fault(None)
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("POLICY_DECISION")) == 3


async def test_one_malformed_endpoint_keeps_the_rest(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        harness.emulator.break_path("/events")
        await harness.collect()
        errors = harness.events("MALFORMED_RESPONSE")
        assert [e.details["endpoint"] for e in errors] == ["/events"]
        assert errors[0].level == "ERROR"
        assert harness.monitor.runtime.stats.counters["malformed"] == 1
        assert len(harness.events("POLICY_DECISION")) == 3  # the good data is kept
        assert harness.metrics("decision_count")
        harness.emulator.break_path("/events", broken=False)
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("POLICY_EVAL_RESULT")) == 3


async def test_cursor_reset_stores_nothing_twice(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        await harness.collect()
        harness.emulator.cursor_reset()
        await harness.emulator.step()
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("POLICY_EVAL_RESULT")) == 6


async def test_restart_with_fresh_buffer_loses_nothing(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        await harness.collect()
        harness.emulator.restart()
        await harness.emulator.step()
        await harness.collect()
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("ENGINE_START")) == 2 and len(harness.events("POLICY_LOADED")) == 6
    assert len(harness.events("POLICY_DECISION")) == 6
    counts = harness.metrics("decision_count")[-1].fields
    assert counts["total"] == 3  # the engine's counters restarted too
    assert counts["new_total"] == 0


async def test_pages_through_a_burst(nursery: trio.Nursery, make_component: Callable[..., Any]) -> None:
    h = await _start(nursery, make_component, PolicyEngineEmulator(), page_size=5)
    with trio.fail_after(10):
        await h.collect()
        await h.emulator.step(decisions=23)
        await h.collect()
    h.assert_exactly_once()
    assert len(h.events("POLICY_DECISION")) == 23
    assert len(h.events("POLICY_EVAL_RESULT")) == 23
    await h.monitor.close()


async def test_engine_capping_the_page_size_loses_nothing(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    h = await _start(nursery, make_component, PolicyEngineEmulator(max_limit=4))  # we ask for 500
    with trio.fail_after(10):
        await h.emulator.step(decisions=9)
        await h.collect()
        await h.emulator.step(decisions=11)
        await h.collect()
        await h.collect()
    h.assert_exactly_once()
    assert len(h.events("POLICY_DECISION")) == 20 == len(h.emulator.decisions)
    await h.monitor.close()


async def test_legacy_metrics_route_fallback(nursery: trio.Nursery, make_component: Callable[..., Any]) -> None:
    h = await _start(nursery, make_component, PolicyEngineEmulator(legacy_metrics_only=True))
    with trio.fail_after(10):
        await h.emulator.step()
        await h.collect()
    fields = h.metrics("policy_count")[0].fields
    assert fields["total"] == len(h.emulator.policies)
    assert fields["checked_types_count"] == len(h.emulator.stats["by_policy_type"])  # the types checked so far
    assert h.metrics("decision_count")[0].fields["allowed"] == h.emulator.checks["allowed"]
    assert not h.events("MALFORMED_RESPONSE")
    await h.monitor.close()


async def test_decisions_sharing_an_id_are_both_stored(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        twin = {**harness.emulator.decisions[-1], "timestamp": harness.emulator.decisions[-1]["timestamp"] + 1e-4}
        harness.emulator.checks_made.decisions.append(twin)  # a second policy decided in the same millisecond
        await harness.collect()
        await harness.collect()
    harness.assert_exactly_once()
    assert len(harness.events("POLICY_DECISION")) == 4


async def test_events_keep_the_engines_id_and_component(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.emulator.step()
        await harness.collect()
    [start] = harness.events("ENGINE_START")
    raw = next(e for e in harness.emulator.events if e["type"] == "ENGINE_START")
    assert (start.origin_id, start.source, start.details) == (raw["id"], "policy_engine", raw["details"])
    assert component_name(start.source) == "POLICY_ENGINE" and start.time_ns == int(raw["timestamp"] * 1e9)


async def test_a_collector_restart_stores_nothing_the_engine_still_keeps_twice(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    emulator = PolicyEngineEmulator()
    url = await nursery.start(emulator.serve)
    with trio.fail_after(10):
        store = make_component(SqliteStore, {})
        await store.open()
        first = make_component(PolicyMonitor, {"url": url})
        await first.open()
        await emulator.step()
        before = list(await first.collect())
        await first.close()
        await store.write([attrs.evolve(r, id=i) if isinstance(r, Event) else r for i, r in enumerate(before, 1)])
        await emulator.step()
        second = make_component(PolicyMonitor, {"url": url}, instance="policy-2", agent=SimpleNamespace(store=store))
        await second.open()
        after = list(await second.collect())
        await second.close()
        await store.close()
    events = [e for e in before + after if isinstance(e, Event)]
    decisions = [(e.details["id"], e.details["timestamp"]) for e in events if e.type == "POLICY_DECISION"]
    assert len(decisions) == len(set(decisions)) == 6 == len(emulator.decisions)
    engine = [e.origin_id for e in events if e.origin_id and e.type != "POLICY_DECISION"]
    assert len(engine) == len(set(engine)) == len(emulator.events)
