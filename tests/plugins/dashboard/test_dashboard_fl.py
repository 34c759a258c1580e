"""The dashboard's FL routes: ``/api/metrics/fl``, ``/fl/summary``, ``/fl/rounds``, ``/fl/status``, ``/fl/config``,
from ``fl_round``/``fl_server`` metrics and FL events as the FL monitor stores them."""

from __future__ import annotations

from pathlib import Path

import trio
from dashboard_helpers import (
    SECOND,
    T0,
    fl_round,
    fl_server,
    network_records,
    running_dashboard,
)
from flcollector import Metric, Record
from flcollector.plugins.fl.convert import fl_event

ACCURACIES = [0.5, 0.62, 0.71, 0.78, 0.83]


def _rounds(experiment: str | None = None) -> list[Record]:
    records: list[Record] = []
    for n, accuracy in enumerate(ACCURACIES, start=1):
        records += fl_round(n, accuracy, 1.0 - accuracy, experiment)
    return records


async def test_fl_metrics_lists_rounds_and_survives_many_later_rows(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/metrics/fl", limit=100)
            assert empty["metrics"] == [] and empty["status"] == "success" and "error" not in empty
            # training ended (e.g. stopped early) after round 5 of 10: only round 5 was the end of training
            await dash.send([*_rounds(), fl_server(5, 10, active=False)])
            # upstream bug §5 #12: rounds vanished once ~200 newer rows of other types were stored
            for batch in range(3):
                await dash.send([r for i in range(100) for r in network_records(T0 + (batch * 100 + i) * SECOND)])
            body = await dash.get(
                "/api/metrics/fl", limit=100, optimize="true", use_cache="true", consolidate_rounds="true"
            )
            items = body["metrics"]
            assert [i["round"] for i in items] == [1, 2, 3, 4, 5]
            assert [i["accuracy"] for i in items] == ACCURACIES
            first = items[0]
            assert first["loss"] == 0.5 and first["clients_connected"] == 3 and first["clients_total"] == 4
            assert first["model_size_mb"] == 4.25 and first["status"] == "complete"
            assert first["timestamp"] == "2025-06-15T15:07:40.000000+00:00" and first["data_state"] == "training"
            assert items[-1]["training_complete"] is True and items[-1]["data_state"] == "training_complete"
            assert not any(i["training_complete"] for i in items[:-1])
            assert body["training_summary"]["best_accuracy"] == 0.83
            window = await dash.get("/api/metrics/fl", limit=2, include_raw="false")
            assert [i["round"] for i in window["metrics"]] == [4, 5]  # the last `limit` rounds
            ranged = await dash.get("/api/metrics/fl", min_round=2, max_round=3)
            assert [i["round"] for i in ranged["metrics"]] == [2, 3]
            assert [i["training_complete"] for i in ranged["metrics"]] == [False, False]
            timed = await dash.get("/api/metrics/fl", start_time="2025-06-15T15:09:40Z")
            assert [i["round"] for i in timed["metrics"]] == [3, 4, 5]
            bad = await dash.client.get("/api/metrics/fl", params={"min_round": "x"})
            assert bad.status_code == 400 and bad.json()["param"] == "min_round"


async def test_fl_summary_returns_the_compact_rounds(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            assert (await dash.get("/api/metrics/fl/summary", include_summary="true", limit=10))["rounds"] == []
            await dash.send(_rounds())
            body = await dash.get("/api/metrics/fl/summary", include_summary="true", limit=3)
            assert [r["round"] for r in body["rounds"]] == [3, 4, 5]
            last = body["rounds"][-1]
            assert set(last) >= {
                "round",
                "timestamp",
                "accuracy",
                "loss",
                "clients_count",
                "training_complete",
                "model_size_mb",
                "status",
            }
            assert last["clients_count"] == 3 and last["accuracy"] == 0.83 and last["training_complete"] is False


async def test_fl_rounds_sorts_filters_and_paginates(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(_rounds())
            # upstream bug: limit=1&sort_order=desc returned round 1
            latest = await dash.get("/api/metrics/fl/rounds", limit=1, sort_order="desc")
            assert [r["round"] for r in latest["rounds"]] == [5] and latest["latest_round"] == 5
            assert latest["rounds"][0]["model_size_mb"] == 4.25 and latest["pagination"]["has_more"] is True
            full = await dash.get("/api/metrics/fl/rounds", limit=1000)
            assert [r["round"] for r in full["rounds"]] == [1, 2, 3, 4, 5]
            item = full["rounds"][0]
            assert (item["successful_clients"], item["failed_clients"], item["clients_total"]) == (3, 1, 4)
            assert (item["aggregation_duration"], item["evaluation_duration"], item["training_duration"]) == (
                0.5,
                1.5,
                12.5,
            )
            assert item["data_source"] == "collector" and item["training_complete"] is False
            page = await dash.get("/api/metrics/fl/rounds", start_round=2, end_round=4, limit=2, offset=1)
            assert [r["round"] for r in page["rounds"]] == [3, 4] and page["pagination"]["has_more"] is False
            accurate = await dash.get("/api/metrics/fl/rounds", min_accuracy=0.7, max_accuracy=0.8)
            assert [r["round"] for r in accurate["rounds"]] == [3, 4]
            since = await dash.get("/api/metrics/fl/rounds", since_round=3, include_stats="true")
            assert [r["round"] for r in since["rounds"]] == [4, 5] and since["statistics"]["best_accuracy"] == 0.83
            polling = await dash.get("/api/metrics/fl/rounds", polling_mode="true", since_round=4)
            assert [r["round"] for r in polling["new_rounds"]] == [5] and polling["polling_mode"] is True
            for params, name in (
                ({"sort_order": "up"}, "sort_order"),
                ({"limit": "0"}, "limit"),
                ({"start_round": "3", "end_round": "2"}, "end_round"),
            ):
                bad = await dash.client.get("/api/metrics/fl/rounds", params=params)
                assert bad.status_code == 400 and bad.json()["param"] == name
            capped = await dash.get("/api/metrics/fl/rounds", limit=50_000)
            assert capped["pagination"]["limit"] == 10_000


async def test_fl_rounds_default_to_the_current_experiment(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path, experiment="run_b") as dash:
            await dash.send(fl_round(7, 0.9, 0.1, "run_a") + fl_round(1, 0.4, 0.6, "run_b"))
            current = await dash.get("/api/metrics/fl/rounds")
            assert [(r["round"], r["experiment"]) for r in current["rounds"]] == [(1, "run_b")]
            everything = await dash.get("/api/metrics/fl/rounds", experiment="*")
            assert [r["round"] for r in everything["rounds"]] == [1, 7]


async def test_fl_status_from_stored_snapshot_and_rounds(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            idle = await dash.get("/api/metrics/fl/status")
            assert idle["training_active"] is False and idle["current_round"] == 0 and "error" not in idle
            await dash.send([*_rounds(), fl_server(5, 10)])
            body = await dash.get("/api/metrics/fl/status")
            assert "error" not in body
            assert body["current_round"] == 5 and body["max_rounds"] == 10 and body["connected_clients"] == 3
            assert body["latest_accuracy"] == 0.83 and body["latest_loss"] == 1.0 - 0.83
            assert body["training_complete"] is False and body["stopped_by_policy"] is False
            assert body["model_size_mb"] == 4.25 and body["start_time"] == "2025-06-15T15:06:40.000000+00:00"
            # no fl monitor runs in this agent, so the FL server cannot be called available (nor active)
            assert body["fl_server_available"] is False and body["training_active"] is False
            assert body["collector_monitoring"] is False and isinstance(body["timestamp"], str)
            await dash.send([fl_server(10, 10, active=False, at=T0 + 11 * 60 * SECOND)])
            done = await dash.get("/api/metrics/fl/status")
            assert done["training_complete"] is True and done["status"] == "complete"


async def test_fl_config_from_config_loaded_event(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/metrics/fl/config")
            assert empty["status"] == "unknown" and empty["fl_server"]["model"] == "unknown" and "error" not in empty
            summary = {
                "model": "cnn",
                "dataset": "mnist",
                "rounds": 10,
                "min_clients": 2,
                "min_available_clients": 3,
                "stay_alive_after_training": False,
            }
            loaded = fl_event(
                {
                    "event_id": "e1",
                    "timestamp": "2025-06-15T15:06:40+00:00",
                    "source_component": "FL_SERVER",
                    "event_type": "CONFIG_LOADED",
                    "details": {"config_summary": summary},
                },
                None,
            )
            policy = Metric("policy_count", {"total": 4, "enabled": 3}, T0, source="policy_engine")
            await dash.send([loaded, fl_server(2, 10), policy])
            body = await dash.get("/api/metrics/fl/config")
            assert set(body) >= {
                "fl_server",
                "policy_engine",
                "training_parameters",
                "model_config",
                "federation_config",
                "metadata",
                "status",
                "data_sources",
            }
            assert body["fl_server"]["model"] == "cnn" and body["fl_server"]["dataset"] == "mnist"
            assert body["fl_server"]["total_rounds"] == 10 and body["fl_server"]["current_round"] == 2
            assert body["federation_config"]["min_available_clients"] == 3
            assert body["training_parameters"]["min_clients"] == 2 and body["model_config"]["model_type"] == "cnn"
            assert body["policy_engine"]["total"] == 4 and body["status"] == "enhanced"
            assert body["metadata"]["api_version"] == "2.0"
