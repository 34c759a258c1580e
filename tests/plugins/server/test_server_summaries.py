"""The spec's summary routes: ``/api/v1/status``, ``/api/v1/fl/metrics``, ``/api/v1/network/metrics``.

Records are shaped as the built-in monitors write them (fl, sdn, probe, policy).
"""

from __future__ import annotations

import trio
from flcollector import Event, Metric, now_ns


def fl_records(start: int) -> list:
    rounds = [
        Metric(
            "fl_round",
            {
                "accuracy": 0.5 + r / 10,
                "loss": 1.0 - r / 10,
                "clients_succeeded": 2,
                "total_duration_s": 10.0 + r,
                "status": "complete",
            },
            time_ns=start + r * 1000,
            round=r,
            source="fl_server",
        )
        for r in (1, 2, 3)
    ]
    clients = [
        Metric(
            "fl_client",
            {"accuracy": 0.6, "training_time_s": 4.0, "num_examples": 100},
            time_ns=start + r * 1000 + 1,
            round=r,
            tags={"client_id": "client-1"},
            source="fl_server",
        )
        for r in (1, 2, 3)
    ] + [
        Metric(
            "fl_client",
            {"accuracy": 0.4, "training_time_s": 6.0, "num_examples": 50},
            time_ns=start + 1001,
            round=1,
            tags={"client_id": "client-2"},
            source="fl_server",
        )
    ]
    return rounds + clients


async def test_fl_metrics_gives_per_round_arrays_and_clients(running) -> None:
    start = now_ns() - 10_000_000_000
    with trio.fail_after(10):
        await running.send(fl_records(start))
        body = (await running.client.get("/api/v1/fl/metrics", params={"experiment_id": "exp_test"})).json()
    assert body["experiment_id"] == "exp_test"
    g = body["global_metrics"]
    assert g["rounds"] == [1, 2, 3]
    assert g["global_accuracy"] == [0.6, 0.7, 0.8]
    assert g["participants_per_round"] == [2, 2, 2]
    assert g["round_duration_seconds"] == [11.0, 12.0, 13.0]
    c1, c2 = body["client_metrics"]["client-1"], body["client_metrics"]["client-2"]
    assert c1["participation_rate"] == 1.0 and c2["participation_rate"] == round(1 / 3, 4)
    assert c1["avg_local_accuracy"] == 0.6 and c2["avg_training_time"] == 6.0
    assert c1["data_contribution"] == 100
    assert body["timerange"]["from"].endswith("Z")


async def test_fl_metrics_time_window_and_other_experiment(running) -> None:
    start = now_ns() - 10_000_000_000
    with trio.fail_after(10):
        await running.send(fl_records(start))
        window = (
            await running.client.get("/api/v1/fl/metrics", params={"from": str(start + 1500), "to": str(start + 2500)})
        ).json()  # epoch nanoseconds are accepted too
        other = (await running.client.get("/api/v1/fl/metrics", params={"experiment_id": "nope"})).json()
    assert window["global_metrics"]["rounds"] == [2]
    assert other["global_metrics"]["rounds"] == [] and other["client_metrics"] == {}


async def test_network_metrics_over_timeframe(running) -> None:
    now = now_ns()
    flows = [{"priority": 2000}, {"priority": 150}, {"priority": 1}, {"priority": 0}]
    records = [
        Metric(
            "network",
            {"switches_count": 2, "hosts_count": 4, "links_count": 3, "bandwidth_total_mbps": 50.0, "flows_active": 3},
            time_ns=now - 3 * 10**9,
            source="sdn_controller",
        ),
        Metric(
            "network",
            {"switches_count": 3, "hosts_count": 4, "links_count": 4, "bandwidth_total_mbps": 200.0, "flows_active": 4},
            time_ns=now - 2 * 10**9,
            source="sdn_controller",
        ),
        Metric("probe_tcp", {"rtt_avg_ms": 10.0, "loss_percent": 0.0}, time_ns=now - 10**9, tags={"target": "a"}),
        Metric("probe_tcp", {"rtt_avg_ms": 30.0, "loss_percent": 50.0}, time_ns=now - 10**8, tags={"target": "b"}),
        Metric("sdn_port", {"rx_bps": 8e7, "tx_bps": 2e7}, time_ns=now - 10**8, tags={"switch": "1", "port": "1"}),
        Event("FLOW_SNAPSHOT", "4 flows", time_ns=now - 10**8, source="sdn_controller", details={"flows": flows}),
        Event("TOPOLOGY_SNAPSHOT", "3 switches", time_ns=now - 5 * 10**9, source="sdn_controller"),
        Metric("network", {"switches_count": 9}, time_ns=now - 7200 * 10**9),  # outside 1h
    ]
    with trio.fail_after(10):
        await running.send(records)
        body = (await running.client.get("/api/v1/network/metrics", params={"timeframe": "1h"})).json()
        bad = await running.client.get("/api/v1/network/metrics", params={"timeframe": "soon"})
    assert body["timeframe"] == "1h"
    assert body["topology"]["devices"] == 3 and body["topology"]["links"] == 4 and body["topology"]["hosts"] == 4
    assert body["topology"]["last_change"].endswith("Z")
    assert body["performance"]["average_latency_ms"] == 20.0
    assert body["performance"]["packet_loss_rate"] == 0.25
    assert body["performance"]["peak_bandwidth_mbps"] == 200.0
    assert body["performance"]["active_flows"] == 4
    assert body["performance"]["flow_table_utilization"] is None  # nobody measures it
    assert body["qos_metrics"] == {
        "high_priority_flows": 1,
        "medium_priority_flows": 1,
        "low_priority_flows": 2,
        "priority_violations": None,
    }
    assert body["samples"] == {"network": 2, "sdn_port": 1, "probe_tcp": 2}
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "timeframe"


async def test_network_metrics_with_nothing_stored_is_all_null(running) -> None:
    with trio.fail_after(10):
        body = (await running.client.get("/api/v1/network/metrics")).json()
    assert body["topology"] == {"devices": None, "hosts": None, "links": None, "last_change": None}
    assert set(body["performance"].values()) == {None}
    assert body["qos_metrics"]["high_priority_flows"] is None


async def test_status_reports_components_from_state(running) -> None:
    running.agent.context.update(round=4, phase="training")
    with trio.fail_after(10):
        await running.send(
            [
                Metric("fl_server", {"connected_clients": 5, "state": "active"}, round=4, source="fl_server"),
                Metric("policy_count", {"total": 12, "enabled": 10, "active": 10}, source="policy_engine"),
                Metric("network", {"switches_count": 5, "flows_total": 11}, source="sdn_controller"),
                Event("POLICY_DECISION", "allowed", source="policy_engine"),
            ]
        )
        body = (await running.client.get("/api/v1/status")).json()
    assert body["system_health"] in ("healthy", "degraded")
    assert body["experiment_id"] == "exp_test"
    fl, pe, sdn = (body["components"][k] for k in ("fl_server", "policy_engine", "sdn_controller"))
    assert fl["current_round"] == 4 and fl["active_clients"] == 5
    assert fl["status"] == "not_monitored"  # no fl monitor configured in this agent
    assert pe["active_policies"] == 10 and pe["events_per_minute"] == 0.2
    assert sdn["managed_devices"] == 5 and sdn["active_flows"] == 11
    assert body["timestamp"].endswith("Z")


async def test_both_faces_read_a_rounds_duration_the_same_way(running) -> None:
    """One definition (summaries.ROUND_DURATION): the whole round when measured, else its training time."""
    fields = {"accuracy": 0.7, "loss": 0.3, "total_duration_s": 30.0, "training_duration_s": 12.5}
    await running.send([
        Metric("fl_round", fields, round=1, source="fl_server"),
        Metric("fl_round", {"accuracy": 0.8, "training_duration_s": 11.0}, round=2, source="fl_server"),
    ])
    with trio.fail_after(10):
        spec = (await running.client.get("/api/v1/fl/metrics")).json()
        dashboard = (await running.client.get("/api/metrics/fl/rounds")).json()
    assert spec["global_metrics"]["round_duration_seconds"] == [30.0, 11.0]
    assert [r["training_duration"] for r in dashboard["rounds"]] == [30.0, 11.0]
