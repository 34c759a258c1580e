"""The policy-engine emulator serves the reference shapes (§2.5) and its own faults behave as documented."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio
from flcollector.emulators.policy_engine import MAX_EVENTS, PolicyEngineEmulator


@pytest.fixture
async def engine(nursery: trio.Nursery) -> PolicyEngineEmulator:
    emulator = PolicyEngineEmulator()
    await nursery.start(emulator.serve)
    return emulator


@pytest.fixture
async def client(engine: PolicyEngineEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=engine.url or "") as http:
        yield http


async def test_metrics_shapes(engine: PolicyEngineEmulator, client: httpx.AsyncClient) -> None:
    with trio.fail_after(10):
        await engine.step()
        health = (await client.get("/health")).json()
        v1 = (await client.get("/api/v1/metrics")).json()
        legacy = (await client.get("/metrics")).json()
        points = (await client.get("/api/v1/policy_metrics")).json()
    assert health == {"status": "ok", "version": engine.policy_version}
    assert v1["policy_checks_total"] == 3 == v1["policy_checks_allowed"] + v1["policy_checks_denied"]
    assert v1["policy_count"] == len(engine.policies) and "decisions_last_hour_total" in v1
    assert legacy["policy_types"] == sorted({p["type"] for p in engine.policies})
    assert isinstance(points, list)  # a bare list, as the real engine answers
    [decisions] = [p for p in points if p["metric_type"] == "decision_count"]
    assert decisions["metric_value"] == 3 and decisions["allowed_count"] + decisions["denied_count"] == 3


async def test_decisions_newest_first_with_inclusive_time_filters(
    engine: PolicyEngineEmulator, client: httpx.AsyncClient
) -> None:
    with trio.fail_after(10):
        await engine.step(decisions=5)
        everything = (await client.get("/api/v1/policy_decisions", params={"limit": 100})).json()
        middle = everything[2]["timestamp"]
        newer = (await client.get("/api/v1/policy_decisions", params={"start_time": middle})).json()
        older = (await client.get("/api/v1/policy_decisions", params={"end_time": middle, "limit": 2})).json()
        iso = (await client.get("/api/v1/policy_decisions", params={"start_time": "2025-01-01T00:00"})).json()
    stamps = [d["timestamp"] for d in everything]
    assert stamps == sorted(stamps, reverse=True) and len(everything) == 5
    assert [d["id"] for d in newer] == [d["id"] for d in everything[:3]]
    assert [d["id"] for d in older] == [d["id"] for d in everything[2:4]]
    assert len(iso) == 5  # non-numeric times are ignored, like upstream
    assert set(engine.served_decisions) == {d["id"] for d in everything}
    assert {"policy_id", "component", "context", "decision", "result", "reason", "request_id"} <= set(everything[0])


async def test_events_cursor_reset_and_restart(engine: PolicyEngineEmulator, client: httpx.AsyncClient) -> None:
    with trio.fail_after(10):
        first = (await client.get("/events")).json()
        cursor = first["events"][-1]["id"]
        await engine.step(decisions=2)
        after = (await client.get("/events", params={"since_event_id": cursor})).json()
        unknown = (await client.get("/events", params={"since_event_id": "no-such-id"})).json()
        engine.cursor_reset()
        reset = (await client.get("/events", params={"since_event_id": cursor})).json()
        again = (await client.get("/events", params={"since_event_id": cursor})).json()
        engine.restart()
        restarted = (await client.get("/events", params={"since_event_id": cursor})).json()
    assert [e["type"] for e in first["events"]][:2] == ["ENGINE_START", "POLICY_CREATED"]
    assert [e["type"] for e in after["events"]] == ["POLICY_EVAL_RESULT"] * 2
    assert after["last_event_id"] == after["events"][-1]["id"]
    assert len(unknown["events"]) == len(first["events"]) + 2  # an unknown id serves everything
    assert reset["events"] == unknown["events"] and again["events"] == after["events"]
    assert [e["type"] for e in restarted["events"]] == ["ENGINE_START"]
    assert engine.checks["total"] == 0 and engine.decisions == []
    assert set(engine.served_events) == {e["id"] for r in (first, after, unknown, restarted) for e in r["events"]}


async def test_event_buffer_drops_the_oldest_fifth_when_full(engine: PolicyEngineEmulator) -> None:
    for _ in range(MAX_EVENTS):
        engine.add_decision(allowed=True)
    assert len(engine.events) <= MAX_EVENTS
    assert engine.events[0]["type"] == "POLICY_EVAL_RESULT"  # the start-up events were dropped


async def test_faults(nursery: trio.Nursery) -> None:
    engine = PolicyEngineEmulator(legacy_metrics_only=True)
    url = await nursery.start(engine.serve)
    async with httpx.AsyncClient(base_url=url) as client:
        with trio.fail_after(10):
            assert (await client.get("/api/v1/metrics")).status_code == 404
            engine.break_path("/events")
            with pytest.raises(ValueError):
                (await client.get("/events")).json()
            assert (await client.get("/health")).json()["status"] == "ok"
            engine.set_fault("error")
            assert (await client.get("/health")).status_code == 500
