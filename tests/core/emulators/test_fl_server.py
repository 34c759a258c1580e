"""The emulated FL server answers as ``src/fl/server/fl_server.py`` does, key by key, over real HTTP.

Every expected key set below is read from the upstream code (``round_data`` and the ``fl_rounds`` columns, the
``enhanced_metrics`` of ``aggregate_fit``/``aggregate_evaluate``, ``global_metrics``, the route functions).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import httpx
import pytest
import trio
from flcollector.emulators.fl_server import FlServerEmulator

ROW_KEYS = {"round", "timestamp", "status", "accuracy", "loss", "training_duration", "model_size_mb", "clients"}
RAW_KEYS = {
    "aggregated_loss",
    "aggregated_metrics",
    "evaluation_results_count",
    "round_start_time",
    "aggregation_start_time",
    "evaluation_start_time",
    "phase_durations",
    "client_timing_stats",
}
AGGREGATION_KEYS = {
    "round",
    "successful_clients",
    "failed_clients",
    "total_clients",
    "aggregation_duration",
    "round_duration_partial",
    "timestamp",
    "aggregated_metrics",
    "client_training_durations",
    "total_client_training_time",
    "average_client_training_time",
    "min_client_training_time",
    "max_client_training_time",
    "unique_model_types",
    "unique_datasets",
    "model_type_distribution",
    "dataset_distribution",
    "model_size_mb",
}
EVALUATION_KEYS = {
    "round",
    "accuracy",
    "loss",
    "evaluation_duration",
    "total_round_duration",
    "successful_evaluations",
    "failed_evaluations",
    "timestamp",
    "client_evaluation_durations",
    "total_client_evaluation_time",
    "average_client_evaluation_time",
    "min_client_evaluation_time",
    "max_client_evaluation_time",
    "eval_unique_model_types",
    "eval_unique_datasets",
    "eval_model_type_distribution",
    "eval_dataset_distribution",
    "aggregation_duration",
    "model_size_mb",
}
GLOBAL_KEYS = {
    "start_time",
    "current_round",
    "connected_clients",
    "aggregate_fit_count",
    "aggregate_evaluate_count",
    "last_round_metrics",
    "policy_checks_performed",
    "policy_checks_allowed",
    "policy_checks_denied",
    "training_complete",
    "training_end_time",
    "total_training_duration",
    "rounds_history",
    "data_state",
    "model_size_mb",
    "max_rounds",
    "training_active",  # set by _start_training_loop before Flower waits for clients
    "server_status",
}
AFTER_A_ROUND = {
    "last_aggregation_duration",
    "last_round_partial_duration",
    "aggregation_timestamp",
    "last_client_training_stats",
    "last_evaluation_duration",
    "last_round_total_duration",
    "last_round_accuracy",
    "last_round_loss",
    "evaluation_timestamp",
    "last_client_evaluation_stats",
}
STATUS_KEYS = {
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


@pytest.fixture
async def server(nursery: trio.Nursery) -> FlServerEmulator:
    """An emulated FL server with 5 clients and 10 rounds on 127.0.0.1:0."""
    emulator = FlServerEmulator(num_clients=5, max_rounds=10, seed=1)
    await nursery.start(emulator.serve)
    return emulator


async def answer(server: FlServerEmulator, path: str, params: Any = None) -> httpx.Response:
    """GET ``path`` (``params`` as httpx takes them, a list of pairs for repeated names)."""
    async with httpx.AsyncClient(base_url=server.url or "") as client:
        return await client.get(path, params=params)


async def get(server: FlServerEmulator, path: str, **params: Any) -> Any:
    """GET ``path`` and return the JSON body (asserting a 200)."""
    response = await answer(server, path, params)
    assert response.status_code == 200, response.text
    return response.json()


async def steps(server: FlServerEmulator, n: int) -> None:
    """Play ``n`` rounds."""
    for _ in range(n):
        await server.step()


def of_type(server: FlServerEmulator, event_type: str) -> list[dict[str, Any]]:
    """The details of every produced event of ``event_type``."""
    return [e["details"] for e in server.produced_events if e["event_type"] == event_type]


async def test_rows_carry_the_persisted_columns_and_nothing_else(server: FlServerEmulator) -> None:
    await steps(server, 2)
    with trio.fail_after(10):
        row = (await get(server, "/rounds"))["rounds"][1]
    assert set(row) == ROW_KEYS | {"raw_metrics"} and set(row["raw_metrics"]) == RAW_KEYS
    raw = row["raw_metrics"]
    assert row["status"] == "complete" and isinstance(row["clients"], int) and row["clients"] == 5
    for key in ("accuracy", "loss", "training_duration", "model_size_mb"):
        assert isinstance(row[key], float), key
    assert set(raw["phase_durations"]) == {"total", "aggregation", "evaluation"}
    assert raw["phase_durations"]["total"] == row["training_duration"]  # upstream's "training_duration" is the round
    assert raw["client_timing_stats"]["training"] == {}  # upstream never fills it
    timing = set(raw["client_timing_stats"]["evaluation"])
    assert timing == {"total_time", "average_time", "min_time", "max_time", "count"}
    end = datetime.fromisoformat(row["timestamp"]).timestamp()
    assert raw["round_start_time"] <= raw["aggregation_start_time"] <= raw["evaluation_start_time"] <= end
    assert raw["aggregated_metrics"] == {} and raw["aggregated_loss"] == row["loss"]


async def test_round_events_carry_upstreams_details(server: FlServerEmulator) -> None:
    await steps(server, 1)
    started, aggregated = of_type(server, "ROUND_STARTED")[0], of_type(server, "AGGREGATION_COMPLETED")[0]
    evaluated, completed = of_type(server, "EVALUATION_COMPLETED")[0], of_type(server, "ROUND_COMPLETED")[0]
    row = server.rounds[1]
    assert set(started) == {
        "round",
        "total_clients",
        "selected_clients",
        "timestamp",
        "round_start_time",
        "config_duration",
        "parameters_size",
    }
    assert isinstance(started["timestamp"], str)
    assert started["round_start_time"] == row["raw_metrics"]["round_start_time"]
    assert set(aggregated) == AGGREGATION_KEYS and set(evaluated) == EVALUATION_KEYS
    assert set(completed) == EVALUATION_KEYS | {"phase_breakdown"}
    assert set(completed["phase_breakdown"]) == {"aggregation_duration", "evaluation_duration", "total_duration"}
    assert evaluated["timestamp"] == row["timestamp"] and evaluated["accuracy"] == row["accuracy"]
    assert aggregated["successful_clients"] + aggregated["failed_clients"] == aggregated["total_clients"]
    assert len(aggregated["client_training_durations"]) == aggregated["successful_clients"]
    assert all(isinstance(e["source_component"], str) for e in server.produced_events)
    assert [e["event_type"] for e in server.produced_events][:2] == ["SERVER_START", "CONFIG_LOADED"]


async def test_metrics_status_and_health_answer_global_metrics(server: FlServerEmulator) -> None:
    with trio.fail_after(10):
        assert (await get(server, "/"))["endpoints"] == ["/health", "/metrics", "/events"]
        health = await get(server, "/health")
        before = await get(server, "/metrics")
        waiting = await get(server, "/status")
        await steps(server, 1)
        metrics = await get(server, "/metrics", include_rounds="TRUE")
        training = await get(server, "/status")
        await steps(server, 9)
        done = await get(server, "/status")
    assert health["status"] == "healthy" and isinstance(health["timestamp"], float)
    assert set(before) == GLOBAL_KEYS and before["last_round_metrics"] == {}
    assert set(metrics) == GLOBAL_KEYS | AFTER_A_ROUND | {"rounds"} and metrics["rounds"] == []
    assert metrics["aggregate_fit_count"] == 0 and metrics["training_complete"] is False  # never set upstream
    assert metrics["data_state"] == "initializing" and metrics["total_training_duration"] == 0.0
    assert metrics["policy_checks_performed"] == 8 == metrics["policy_checks_allowed"]
    assert set(metrics["last_round_metrics"]) == EVALUATION_KEYS and "model" not in metrics
    assert set(waiting) == STATUS_KEYS and isinstance(waiting["timestamp"], str)
    assert (waiting["server_status"], waiting["current_round"], waiting["training_active"]) == (
        "waiting_for_clients",
        0,
        True,
    )
    assert training["server_status"] == "training" and training["current_round"] == 1
    # Flower returned: upstream's global server_status stays "training", so /status says "ready", never "completed"
    assert (done["server_status"], done["training_active"], done["current_round"]) == ("ready", False, 10)


async def test_query_parameters_are_parsed_as_upstream(server: FlServerEmulator) -> None:
    await steps(server, 6)
    with trio.fail_after(10):
        page = await get(server, "/rounds", start_round=2, limit=3, offset=1)
        unlimited = await get(server, "/rounds", limit=-1, end_round="")
        capped = await get(server, "/rounds", limit=20000, min_accuracy="high")
        repeated = (await answer(server, "/rounds", [("limit", "2"), ("limit", "5")])).json()
        latest = await get(server, "/rounds/latest", limit=2)
        bad_limit = await answer(server, "/rounds", {"limit": "abc"})
        bad_events = await answer(server, "/events", {"limit": ""})
        empty_start = await answer(server, "/rounds/latest", {"limit": "x"})
    assert [r["round"] for r in page["rounds"]] == [3, 4, 5] and page["total_rounds"] == 5
    assert page["pagination"] == {"limit": 3, "offset": 1, "has_more": True}
    assert page["filters"] == {"start_round": 2, "end_round": None, "min_accuracy": None, "max_accuracy": None}
    assert len(unlimited["rounds"]) == 6  # SQLite's LIMIT -1: no limit
    assert capped["pagination"]["limit"] == 10000 and capped["filters"]["min_accuracy"] is None
    assert repeated["returned_rounds"] == 2  # Werkzeug takes the first of a repeated parameter
    assert [r["round"] for r in latest["rounds"]] == [5, 6] and latest["latest_round"] == 6
    assert bad_limit.status_code == 500
    assert bad_limit.json() == {"error": "invalid literal for int() with base 10: 'abc'", "rounds": []}
    assert bad_events.status_code == 500 and bad_events.json()["events"] == []
    assert empty_start.status_code == 500 and "'x'" in empty_start.json()["error"]


async def test_events_cursor_unknown_cursor_and_limit(server: FlServerEmulator) -> None:
    await steps(server, 1)
    with trio.fail_after(10):
        everything = await get(server, "/events")
        cursor = everything["events"][1]["event_id"]
        after = await get(server, "/events", since_event_id=cursor, limit=2)
        unknown = await get(server, "/events", since_event_id="not-an-id")
        blank = await get(server, "/events", since_event_id="")
    types = [e["event_type"] for e in everything["events"]]
    assert types[2:] == ["ROUND_STARTED", "AGGREGATION_COMPLETED", "EVALUATION_COMPLETED", "ROUND_COMPLETED"]
    assert everything["last_event_id"] == everything["events"][-1]["event_id"]
    assert [e["event_type"] for e in after["events"]] == ["ROUND_STARTED", "AGGREGATION_COMPLETED"]
    assert after["last_event_id"] == everything["last_event_id"]  # the end of the buffer, not of the page
    assert unknown["events"] == everything["events"] == blank["events"]
    assert set(everything["events"][0]) == {"event_id", "timestamp", "source_component", "event_type", "details"}
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in everything["events"]]
    assert stamps == sorted(stamps) and all(s.utcoffset() is not None for s in stamps)


async def test_errors_answer_as_the_real_server(server: FlServerEmulator) -> None:
    with trio.fail_after(10):
        missing = await answer(server, "/nope")
        slash = await answer(server, "/rounds/")
        empty = await get(server, "/rounds/latest")
        server.storage_ready = False
        no_storage = await answer(server, "/rounds")
        no_storage_latest = await answer(server, "/rounds/latest")
        server.failing_endpoints = {"/health", "/status"}
        health = await answer(server, "/health")
        status = await answer(server, "/status")
    assert missing.status_code == 404 == slash.status_code
    endpoints = ["/", "/health", "/metrics", "/events"]
    assert missing.json() == {"error": "Endpoint not found", "available_endpoints": endpoints}
    assert empty == {"rounds": [], "latest_round": 0}
    for response in (no_storage, no_storage_latest):
        assert response.status_code == 500
        assert response.json() == {"error": "Round storage not initialized", "rounds": []}
    assert health.status_code == 500 and health.headers["content-type"].startswith("text/html")  # no except clause
    assert status.status_code == 500 and status.json() == {"error": "injected failure"}


async def test_bodies_are_written_as_flask_writes_them(server: FlServerEmulator) -> None:
    with trio.fail_after(10):
        raw = (await answer(server, "/")).content
    assert raw == b'{"endpoints":["/health","/metrics","/events"],"status":"running"}\n'  # sorted, compact, newline


async def test_training_curve_is_realistic_and_seeded() -> None:
    a, b = FlServerEmulator(max_rounds=10, seed=5), FlServerEmulator(max_rounds=10, seed=5)
    await steps(a, 10)
    await steps(b, 10)
    accuracies = [a.rounds[n]["accuracy"] for n in range(1, 11)]
    assert accuracies == [b.rounds[n]["accuracy"] for n in range(1, 11)]  # same seed, same experiment
    for n, accuracy in enumerate(accuracies, 1):
        assert abs(accuracy - (1 - 0.9 * math.exp(-a.convergence * n))) < 0.05
    assert accuracies[-1] > accuracies[0] + 0.3 and a.rounds[10]["loss"] < a.rounds[1]["loss"]
    assert a.training_complete and not a.metrics["training_active"]
    await a.step()  # training is over: nothing more happens
    assert len(a.produced_rounds) == 10


async def test_buffer_evicts_the_oldest_events() -> None:
    server = FlServerEmulator(buffer_size=10, max_rounds=5)
    await steps(server, 5)
    assert len(server.events) == 10 and len(server.produced_events) == 22
    assert server.events[0] == server.produced_events[12]


async def test_a_process_restart_numbers_rounds_from_1_and_replaces_rows(server: FlServerEmulator) -> None:
    await steps(server, 3)
    old_ids, old_start, first = {e["event_id"] for e in server.events}, server.start_time, server.rounds[1]
    server.restart()
    assert [e["event_type"] for e in server.events] == ["SERVER_START", "CONFIG_LOADED"]
    assert not old_ids & {e["event_id"] for e in server.events}
    assert server.start_time > old_start and server.current_round == 0 and sorted(server.rounds) == [1, 2, 3]
    await server.step()
    replaced = server.rounds[1]
    assert server.current_round == 1 and replaced["timestamp"] > first["timestamp"]
    assert sorted(server.rounds) == [1, 2, 3] and len(server.produced_rounds) == 4


async def test_pause_resume_stop_and_restart_by_policy(server: FlServerEmulator) -> None:
    await steps(server, 1)
    server.pause("peak hours")
    await server.step()  # paused: no round
    with trio.fail_after(10):
        paused = await get(server, "/status")
    server.resume()
    await steps(server, 2)
    server.stop_by_policy("energy budget")
    await server.step()  # stopped: no round
    with trio.fail_after(10):
        stopped = await get(server, "/status")
    start = server.start_time
    server.restart_training()
    await server.step()
    assert paused["server_status"] == "paused" and paused["training_paused"] and paused["current_round"] == 1
    assert paused["pause_reason"] == "Round 2: peak hours"
    assert stopped["training_stopped_by_policy"] and stopped["server_status"] == "paused"
    assert stopped["stop_reason"] == "Training stopped by policy after round 3: energy budget"
    assert stopped["training_active"] is True  # upstream leaves it set when a policy signal stops training
    # the new loop runs the 7 remaining rounds numbered from 1 again, in the same process
    assert server.current_round == 1 and server.start_time == start and server.loop_rounds == 7
    kinds = [e["event_type"] for e in server.produced_events]
    for kind in ("TRAINING_PAUSED_BY_POLICY", "TRAINING_PAUSED", "TRAINING_RESUMED", "TRAINING_STOPPED_BY_POLICY"):
        assert kind in kinds
    assert "TRAINING_PAUSED_BY_SIGNAL" in kinds and set(of_type(server, "TRAINING_STOPPED_BY_POLICY")[0]) == {
        "stopped_after_round",
        "reason",
        "policy_result",
        "final_metrics",
    }


async def test_completion_events_can_lag_behind_the_row(server: FlServerEmulator) -> None:
    server.delay_round_events = True
    await steps(server, 1)
    assert 1 in server.rounds and not of_type(server, "ROUND_COMPLETED")  # the row is there, the events not yet
    await server.step()
    assert [d["round"] for d in of_type(server, "ROUND_COMPLETED")] == [1]
    server.flush_events()
    assert [d["round"] for d in of_type(server, "ROUND_COMPLETED")] == [1, 2]


async def test_malformed_endpoint_and_base_faults(server: FlServerEmulator) -> None:
    server.break_path("/status")
    with trio.fail_after(10):
        bad = await answer(server, "/status")
        good = await answer(server, "/health")
        server.set_fault("error")
        failing = await answer(server, "/health")
    assert bad.status_code == 200 and not bad.text.startswith("{")
    assert good.json()["status"] == "healthy" and failing.status_code == 500
