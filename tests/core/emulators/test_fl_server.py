"""The emulated FL server serves the reference shapes (§2.5) and its FL-specific faults, over real HTTP."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
import trio
from flcollector.emulators.fl_server import FlServerEmulator


@pytest.fixture
async def server(nursery: trio.Nursery) -> FlServerEmulator:
    """An emulated FL server with 5 clients and 10 rounds on 127.0.0.1:0."""
    emulator = FlServerEmulator(num_clients=5, max_rounds=10, seed=1)
    await nursery.start(emulator.serve)
    return emulator


async def get(server: FlServerEmulator, path: str, **params: object) -> dict[str, Any]:
    """GET ``path`` and return the JSON body (asserting a 200)."""
    async with httpx.AsyncClient(base_url=server.url or "") as client:
        response = await client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_health_status_and_metrics_shapes(server: FlServerEmulator) -> None:
    with trio.fail_after(10):
        assert (await get(server, "/"))["endpoints"] == ["/health", "/metrics", "/events"]
        health = await get(server, "/health")
        before = await get(server, "/status")
        await server.step()
        status = await get(server, "/status")
        metrics = await get(server, "/metrics", include_rounds="true")
    assert health["status"] == "healthy" and isinstance(health["timestamp"], float)
    assert before["server_status"] == "waiting_for_clients" and before["current_round"] == 0
    assert set(status) == {
        "server_status",
        "training_stopped_by_policy",
        "training_paused",
        "pause_reason",
        "stop_reason",
        "current_round",
        "max_rounds",
        "restart_allowed",
        "connected_clients",
        "training_active",
        "timestamp",
    }
    assert status["server_status"] == "training" and status["current_round"] == 1 and status["training_active"]
    assert metrics["training_complete"] is False and metrics["rounds_history"] == [] and metrics["rounds"] == []
    assert metrics["last_round_metrics"]["round"] == 1 and metrics["start_time"] == server.start_time
    assert "model" not in metrics and "dataset" not in metrics  # as upstream: only CONFIG_LOADED names them


async def test_training_curve_is_realistic_and_seeded() -> None:
    a, b = FlServerEmulator(max_rounds=10, seed=5), FlServerEmulator(max_rounds=10, seed=5)
    for _ in range(10):
        await a.step()
        await b.step()
    accuracies = [a.rounds[n]["accuracy"] for n in range(1, 11)]
    assert accuracies == [b.rounds[n]["accuracy"] for n in range(1, 11)]  # same seed, same experiment
    for n, accuracy in enumerate(accuracies, 1):
        assert abs(accuracy - (1 - 0.9 * math.exp(-a.convergence * n))) < 0.05
    assert accuracies[-1] > accuracies[0] + 0.3 and a.rounds[10]["loss"] < a.rounds[1]["loss"]
    assert a.status == "completed" and a.training_complete and not a.training_active
    await a.step()  # training is over: nothing more happens
    assert len(a.produced_rounds) == 10


async def test_rounds_pagination_filters_and_latest(server: FlServerEmulator) -> None:
    for _ in range(6):
        await server.step()
    with trio.fail_after(10):
        page = await get(server, "/rounds", start_round=2, limit=3, offset=1)
        rest = await get(server, "/rounds", start_round=2, limit=3, offset=4)
        ranged = await get(server, "/rounds", start_round=2, end_round=3)
        latest = await get(server, "/rounds/latest", limit=2)
    assert [r["round"] for r in page["rounds"]] == [3, 4, 5]
    assert page["pagination"] == {"limit": 3, "offset": 1, "has_more": True} and page["total_rounds"] == 5
    assert [r["round"] for r in rest["rounds"]] == [6] and rest["pagination"]["has_more"] is False
    assert [r["round"] for r in ranged["rounds"]] == [2, 3] and ranged["latest_round"] == 6
    assert [r["round"] for r in latest["rounds"]] == [5, 6] and latest["latest_round"] == 6
    row = page["rounds"][0]
    assert set(row) == {
        "round",
        "timestamp",
        "status",
        "accuracy",
        "loss",
        "training_duration",
        "model_size_mb",
        "clients",
        "raw_metrics",
    }
    assert (3, row["timestamp"]) in server.served_rounds


async def test_events_cursor_unknown_cursor_and_limit(server: FlServerEmulator) -> None:
    await server.step()
    with trio.fail_after(10):
        everything = await get(server, "/events")
        types = [e["event_type"] for e in everything["events"]]
        cursor = everything["events"][1]["event_id"]
        after = await get(server, "/events", since_event_id=cursor, limit=2)
        unknown = await get(server, "/events", since_event_id="not-an-id")
    assert types == [
        "SERVER_START",
        "CONFIG_LOADED",
        "ROUND_STARTED",
        "AGGREGATION_COMPLETED",
        "EVALUATION_COMPLETED",
        "ROUND_COMPLETED",
    ]
    assert everything["last_event_id"] == everything["events"][-1]["event_id"]
    assert [e["event_type"] for e in after["events"]] == ["ROUND_STARTED", "AGGREGATION_COMPLETED"]
    assert after["last_event_id"] == everything["last_event_id"]  # the end of the buffer, not of the page
    assert unknown["events"] == everything["events"]
    assert set(everything["events"][0]) == {"event_id", "timestamp", "source_component", "event_type", "details"}
    assert set(server.served_events) == {e["event_id"] for e in everything["events"]}


async def test_cursor_reset_answers_from_the_start_once(server: FlServerEmulator) -> None:
    await server.step()
    with trio.fail_after(10):
        last = (await get(server, "/events"))["last_event_id"]
        server.cursor_reset()
        reset = await get(server, "/events", since_event_id=last)
        normal = await get(server, "/events", since_event_id=last)
    assert len(reset["events"]) == 6 and normal["events"] == []


async def test_buffer_evicts_the_oldest_events() -> None:
    server = FlServerEmulator(buffer_size=10, max_rounds=5)
    for _ in range(5):
        await server.step()
    assert len(server.events) == 10 and len(server.produced_events) == 22
    assert server.events[0] == server.produced_events[12]


async def test_restart_keeps_rounds_and_starts_a_fresh_event_buffer(server: FlServerEmulator) -> None:
    for _ in range(3):
        await server.step()
    old_ids = {e["event_id"] for e in server.events}
    old_start = server.start_time
    server.restart()
    assert [e["event_type"] for e in server.events] == ["SERVER_START", "CONFIG_LOADED"]
    assert not old_ids & {e["event_id"] for e in server.events}
    assert server.start_time > old_start and sorted(server.rounds) == [1, 2, 3] and server.current_round == 3
    await server.step()
    assert sorted(server.rounds) == [1, 2, 3, 4]
    server.restart(resume=False)  # a new run re-uses round numbers and replaces the rows
    first = server.rounds[1]
    await server.step()
    assert server.current_round == 1 and server.rounds[1] is not first and sorted(server.rounds) == [1, 2, 3, 4]
    assert len(server.produced_rounds) == 5


async def test_pause_resume_and_stop_by_policy(server: FlServerEmulator) -> None:
    await server.step()
    server.pause("policy P1")
    await server.step()  # paused: no round
    with trio.fail_after(10):
        paused = await get(server, "/status")
    server.resume()
    await server.step()
    server.stop_by_policy("energy")
    await server.step()
    assert paused["server_status"] == "paused" and paused["training_paused"] and paused["current_round"] == 1
    assert server.current_round == 2 and server.stopped_by_policy and server.status == "stopped"
    kinds = [e["event_type"] for e in server.events]
    assert {"TRAINING_PAUSED_BY_POLICY", "TRAINING_RESUMED", "TRAINING_STOPPED_BY_POLICY"} <= set(kinds)


async def test_malformed_endpoint_and_base_faults(server: FlServerEmulator) -> None:
    server.malformed_endpoints = {"/status"}
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=server.url or "") as client:
            bad = await client.get("/status")
            good = await client.get("/health")
            missing = await client.get("/nope")
            server.set_fault("error")
            failing = await client.get("/health")
    assert bad.status_code == 200 and not bad.text.startswith("{")
    assert missing.status_code == 404 and missing.json()["error"] == "Endpoint not found"
    assert good.json()["status"] == "healthy" and failing.status_code == 500
