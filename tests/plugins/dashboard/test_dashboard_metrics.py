"""The dashboard's metric routes: ``/api/metrics``, ``/api/metrics/latest`` (and its HEAD probe), ``/status``,
``/api/``, answered from a real sqlite store filled through the agent's pipeline."""

from __future__ import annotations

from pathlib import Path

import trio
from dashboard_helpers import SECOND, T0, fl_server, running_dashboard
from flcollector import Metric, now_ns
from flcollector.plugins.server.jsonio import format_time


def _policy_series() -> list[Metric]:
    return [
        Metric("policy_count", {"total": 5 + i, "enabled": 4}, T0 + i * SECOND, source="policy_engine")
        for i in range(3)
    ] + [
        Metric(
            "decision_count", {"allowed": 10 * i, "denied": i, "total": 11 * i}, T0 + i * SECOND, source="policy_engine"
        )
        for i in range(3)
    ]


async def test_head_probe_answers_200_with_and_without_data(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.client.head("/api/metrics/latest")
            assert empty.status_code == 200 and empty.content == b""
            await dash.send(_policy_series())
            probe = await dash.client.head("/api/metrics/latest")
            assert probe.status_code == 200
            body = await dash.get("/api/metrics/latest")
            assert body["status"] == "success" and body["metrics"]["metric_type"] in ("policy_count", "decision_count")
            assert body["metrics"]["timestamp"] == "2025-06-15T15:06:42.000000+00:00"


async def test_metrics_list_accepts_both_spellings_and_puts_timestamp_in_data(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(_policy_series())
            # the policy time-series call: type=..., limit=500, data must be an object with a timestamp
            series = await dash.get("/api/metrics", type="decision_count", limit=500)
            assert series["total"] == 3 and series["count"] == 3
            assert [m["data"]["allowed"] for m in series["metrics"]] == [20, 10, 0]  # newest first
            assert all(m["metric_type"] == "decision_count" for m in series["metrics"])
            assert series["metrics"][0]["data"]["timestamp"] == "2025-06-15T15:06:42.000000+00:00"
            assert series["metrics"][0]["source_component"] == "POLICY_ENGINE"
            # the Metrics Explorer spelling with a time window (upstream ignored all three)
            window = await dash.get(
                "/api/metrics",
                metric_type="policy_count",
                start_time="2025-06-15T15:06:41Z",
                end_time="2025-06-15T15:06:42+00:00",
                source_component="POLICY_ENGINE",
                limit=100,
            )
            assert window["total"] == 2 and [m["data"]["total"] for m in window["metrics"]] == [7, 6]
            first_numeric = next(v for v in window["metrics"][0]["data"].values() if isinstance(v, int | float))
            assert first_numeric == 7  # the explorer takes the first numeric data field as the value
            # the plain listing the dashboard uses for /api/metrics/types: every item has a metric_type
            listing = await dash.get("/api/metrics", limit=5)
            assert listing["count"] == 5 and listing["total"] == 6
            assert {m["metric_type"] for m in listing["metrics"]} == {"policy_count", "decision_count"}
            page = await dash.get("/api/metrics", type="policy_count", sort_desc="false", limit=1, offset=1)
            assert [m["data"]["total"] for m in page["metrics"]] == [6] and page["offset"] == 1


async def test_metrics_list_rejects_bad_params_naming_them(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            for params, name in (
                ({"limit": "ten"}, "limit"),
                ({"offset": "-1"}, "offset"),
                ({"start_time": "yesterday"}, "start_time"),
                ({"sort_desc": "maybe"}, "sort_desc"),
            ):
                response = await dash.client.get("/api/metrics", params=params)
                assert response.status_code == 400
                assert response.json()["param"] == name and name in response.json()["message"]
            clamped = await dash.get("/api/metrics", limit=50_000)
            assert clamped["limit"] == 1000


async def test_latest_network_builds_the_nested_shape(tmp_path: Path) -> None:
    from dashboard_helpers import network_records

    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            before = await dash.get("/api/metrics/latest", type="network")
            assert before["status"] == "success" and before["metrics"]  # non-empty even before data: no 502
            assert before["metrics"]["data"]["switches_count"] == 0
            assert before["metrics"]["data"]["sdn_status"] == "unknown"
            await dash.send(network_records())
            body = await dash.get("/api/metrics/latest", type="network")
            assert isinstance(body["timestamp"], str) and body["status"] == "success"
            data = body["metrics"]["data"]
            assert (data["switches_count"], data["hosts_count"], data["links_count"]) == (2, 2, 2)
            assert data["sdn_status"] == "connected" and data["packet_loss_percent"] == 0.5
            topo = data["topology"]
            assert len(topo["switches"]) == 2 and len(topo["hosts"]) == 2 and len(topo["links"]) == 2
            assert sorted(n["type"] for n in topo["nodes"]) == ["host", "host", "switch", "switch"]
            perf = data["performance_metrics"]
            assert perf["latency"]["average_ms"] == 2.5
            assert perf["bandwidth"]["total_mbps"] == 12.0 and perf["bandwidth"]["active_ports"] == 4
            assert perf["flows"]["total"] == 3


async def test_latest_network_is_kept_until_a_newer_record_and_stamped_now(tmp_path: Path) -> None:
    from dashboard_helpers import network_records

    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(network_records())
            first = await dash.get("/api/metrics/latest", type="network")
            asked = format_time(now_ns(), "+00:00")
            again = await dash.get("/api/metrics/latest", type="network")
            assert again["metrics"] == first["metrics"]  # the kept row is the row
            assert again["timestamp"] >= asked  # the answer's own time is the current one, not the kept row's
            await dash.send(network_records(at=T0 + SECOND)[1:])  # a newer topology, no newer metric
            newer_topology = await dash.get("/api/metrics/latest", type="network")
            fewer = Metric("network", {"switches_count": 1, "sdn_status": "connected"}, T0 + 2 * SECOND, source="sdn")
            await dash.send([fewer])
            newer = await dash.get("/api/metrics/latest", type="network")
    assert newer_topology["metrics"]["timestamp"] != first["metrics"]["timestamp"]
    assert newer["metrics"]["data"]["switches_count"] == 1 and first["metrics"]["data"]["switches_count"] == 2
    assert newer["metrics"]["data"]["packet_loss_percent"] == 0.0  # this metric has none: nothing kept from the last


async def test_latest_fl_server_is_the_raw_dict(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            none = await dash.get("/api/metrics/latest", type="fl_server")
            assert none["metrics"] == {} and none["status"] == "success"
            await dash.send([fl_server(4, 10)])
            body = await dash.get("/api/metrics/latest", type="fl_server")
            assert body["round"] == 4 and body["current_round"] == 4
            assert body["clients_connected"] == 3 and body["accuracy"] == 0.9 and body["loss"] == 0.2
            assert body["status"] == "training" and body["training_complete"] is False
            generic = await dash.get("/api/metrics/latest", type="fl_server_nonexistent")
            assert generic["metrics"] == {} and generic["message"] == "No metrics found"


async def test_status_and_api_docs(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path, experiment="exp_docs") as dash:
            status = await dash.get("/status")
            assert status["collector_running"] is True and status["experiment"] == "exp_docs"
            assert set(status["intervals"]) >= {"policy_sec", "fl_sec", "network_sec", "event_sec"}
            assert status["storage_dir"].endswith("data")
            docs = await dash.get("/api/")
            paths = {e["path"] for e in docs["endpoints"]}
            assert {"/api/metrics/latest", "/api/metrics/fl/rounds", "/api/events", "/api/network/flows"} <= paths
            latest = next(e for e in docs["endpoints"] if e["path"] == "/api/metrics/latest")
            assert "HEAD" in latest["methods"] and latest["description"]
