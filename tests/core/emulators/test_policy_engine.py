"""The policy-engine emulator answers as ``src/policy_engine`` does (server, blueprints, checker, tracker, buffer)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio
from flcollector.emulators.policy_engine import MAX_EVENTS, PolicyEngineEmulator

V1_METRICS = {
    "policy_count",
    "enabled_policy_count",
    "policy_version",
    "history_event_count",
    "function_count",
    "uptime_seconds",
    "policy_checks_total",
    "policy_checks_allowed",
    "policy_checks_denied",
    "decisions_last_hour_total",
    "decisions_last_hour_allowed",
    "decisions_last_hour_denied",
    "avg_decision_time_ms",
    "decisions_history_count",
}
LEGACY_METRICS = {
    "version",
    "uptime_seconds",
    "policy_count",
    "enabled_policy_count",
    "policy_version",
    "policy_history_count",
    "policy_applications_count",
    "policy_checks_total",
    "policy_checks_allowed",
    "policy_checks_denied",
    "policy_components",
    "policy_types",
    "policy_requesters",
    "latest_application_timestamp",
}
DECISION = {
    "id",
    "policy_id",
    "policy_name",
    "component",
    "timestamp",
    "context",
    "decision",
    "result",
    "reason",
    "action_taken",
    "execution_time",
    "request_id",
}


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
        empty = (await client.get("/metrics")).json()
        await engine.step()
        health = (await client.get("/health")).json()
        v1 = (await client.get("/api/v1/metrics")).json()
        legacy = (await client.get("/metrics")).json()
        now = v1["uptime_seconds"] + engine.started
        points = (await client.get("/api/v1/policy_metrics", params={"start_time": now - 3600, "end_time": now})).json()
        day = (await client.get("/api/v1/policy_metrics", params={"start_time": "yesterday"})).json()
    assert health == {"status": "ok", "version": engine.policy_version}
    assert set(v1) == V1_METRICS and set(legacy) == LEGACY_METRICS
    assert v1["policy_checks_total"] == 3 == v1["policy_checks_allowed"] + v1["policy_checks_denied"]
    assert v1["policy_count"] == len(engine.policies) and v1["history_event_count"] == 0  # policy changes, not events
    assert v1["decisions_last_hour_total"] == 3 and v1["avg_decision_time_ms"] > 0
    assert empty["latest_application_timestamp"] == 0 and empty["policy_types"] == []
    assert legacy["policy_types"] == ["fl_client_selection", "fl_server_control", "fl_client_training"]  # types checked
    assert legacy["policy_components"] == ["unknown"] and legacy["policy_requesters"] == ["unknown"]
    assert isinstance(points, list) and [p["timestamp"] for p in points][:1] == [now - 3600]  # not hour-aligned
    [decisions] = [p for p in points if p["metric_type"] == "decision_count"]
    assert decisions["metric_value"] == 3 and decisions["allowed_count"] + decisions["denied_count"] == 3
    assert decisions["denial_rate"] == pytest.approx(100 * decisions["denied_count"] / 3, abs=0.01)  # a percentage
    assert len([p for p in day if p["metric_type"] == "policy_count"]) == 25  # a bad time: the last 24 h


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
        denied = (await client.get("/api/v1/policy_decisions", params={"result": "deny"})).json()
        all_but_last = (await client.get("/api/v1/policy_decisions", params={"limit": -1})).json()
        bad = await client.get("/api/v1/policy_decisions", params={"limit": "ten"})
    stamps = [d["timestamp"] for d in everything]
    assert stamps == sorted(stamps, reverse=True) and len(everything) == 5
    assert [d["id"] for d in newer] == [d["id"] for d in everything[:3]]
    assert [d["id"] for d in older] == [d["id"] for d in everything[2:4]]
    assert len(iso) == 5  # non-numeric times are ignored, like upstream
    assert denied and all(d["result"] is False for d in denied)  # "deny" is not a true word
    assert len(all_but_last) == 4  # upstream slices [:limit]
    assert bad.status_code == 500 and bad.json() == {"error": "invalid literal for int() with base 10: 'ten'"}
    assert set(everything[0]) == DECISION and everything[0]["decision"] in ("allow", "deny")
    assert everything[0]["id"].startswith("decision_") and everything[0]["action_taken"] == everything[0]["reason"]
    assert {(d["id"], d["timestamp"]) for d in everything} <= set(engine.served_decisions)


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
        bad = await client.get("/events", params={"limit": "x"})
        engine.restart()
        restarted = (await client.get("/events", params={"since_event_id": cursor})).json()
    assert [e["type"] for e in first["events"]] == ["POLICY_LOADED"] * 3 + ["ENGINE_START"]
    assert [e["type"] for e in after["events"]] == ["POLICY_EVAL_RESULT"] * 2
    assert after["last_event_id"] == after["events"][-1]["id"]
    assert len(unknown["events"]) == len(first["events"]) + 2  # an unknown id serves everything
    assert reset["events"] == unknown["events"] and again["events"] == after["events"]
    assert bad.status_code == 500 and set(bad.json()) == {"error"}
    assert [e["type"] for e in restarted["events"]] == ["POLICY_LOADED"] * 3 + ["ENGINE_START"]
    assert engine.checks["total"] == 0 and engine.decisions == []
    assert set(first["events"][0]) == {"id", "type", "timestamp", "source", "details"}
    assert isinstance(first["events"][0]["timestamp"], float) and first["events"][0]["source"] == "POLICY_ENGINE"


async def test_eval_results_carry_the_check_or_its_summary(engine: PolicyEngineEmulator) -> None:
    engine.check("no_such_type", {"server_id": "s"})  # no policy of that type: a small, whole result
    engine.add_decision(allowed=False, component="fl-server")  # a matched policy: the result is too long
    small, large = [e["details"] for e in engine.events if e["type"] == "POLICY_EVAL_RESULT"]
    assert set(small) == {"request_id", "policy_type", "result", "elapsed_ms"} and small["result"]["allowed"] is True
    assert set(large) == {"summary"} and len(large["summary"]) == 500 and "'allowed': False" in large["summary"]


async def test_event_buffer_drops_the_oldest_fifth_when_full(engine: PolicyEngineEmulator) -> None:
    for _ in range(MAX_EVENTS - 4):
        engine.add_decision(allowed=True)
    assert len(engine.events) == MAX_EVENTS and engine.events[0]["type"] == "POLICY_LOADED"
    engine.add_decision(allowed=True)
    assert len(engine.events) == MAX_EVENTS + 1 - MAX_EVENTS // 5  # 501 -> 401
    assert engine.events[0]["type"] == "POLICY_EVAL_RESULT"  # the start-up events were dropped


async def test_policies_and_errors(engine: PolicyEngineEmulator, client: httpx.AsyncClient) -> None:
    engine.create_policy("bandwidth_limit")
    engine.set_enabled("fl-client-selection", False)
    with trio.fail_after(10):
        policies = (await client.get("/api/v1/policies")).json()
        typed = (await client.get("/api/policies", params={"type": "bandwidth_limit"})).json()
        check = (await client.get("/check", params={"component": "collector"})).json()
        missing = await client.get("/api/v1/nope")
    assert [p["id"] for p in policies][:3] == ["fl-client-training", "fl-client-selection", "fl-server-control"]
    assert [p["type"] for p in typed] == ["bandwidth_limit"] and engine.policy_version == 4
    assert check == {"allowed": True, "reason": "Default allow policy"}
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")


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
