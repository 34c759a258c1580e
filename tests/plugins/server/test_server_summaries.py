"""The spec's summary routes: ``/api/v1/status``, ``/api/v1/fl/metrics``, ``/api/v1/network/metrics``.

Records are shaped as the built-in monitors write them (fl, sdn, probe, policy).
"""

from __future__ import annotations

import httpx
import pytest
import trio
from flcollector import Event, Metric, VersionedStore, now_ns


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


async def test_fl_metrics_answer_is_kept_while_the_fl_records_stand(running) -> None:
    """Issue 13 item 7: with a store that keeps versions (sqlite), polls between rounds get the kept answer; a new
    round, a new client report and another experiment are answered anew, other records keep it. A store without
    versions (the memory store) builds every answer."""
    kept = running.server.app.state.server.fl_answers
    start = now_ns() - 10_000_000_000
    later = Metric("fl_round", {"accuracy": 0.95}, time_ns=start + 4000, round=4, source="fl_server")
    report = Metric(
        "fl_client", {"accuracy": 0.5}, time_ns=start + 2001, round=2, tags={"client_id": "client-2"}, source="x"
    )

    async def fl_metrics(**params: str) -> dict:
        return (await running.client.get("/api/v1/fl/metrics", params=params)).json()

    with trio.fail_after(10):
        await running.send(fl_records(start))
        first, again = await fl_metrics(), await fl_metrics()
        await running.send([Metric("cpu", {"value": 1.0}, time_ns=start)])
        unrelated = await fl_metrics()
        await running.send([later])
        with_round = await fl_metrics()
        await running.send([report])
        with_report, other = await fl_metrics(), await fl_metrics(experiment_id="nope")
    assert first == again == unrelated and first["global_metrics"]["rounds"] == [1, 2, 3]
    assert with_round["global_metrics"]["rounds"] == [1, 2, 3, 4]
    assert with_round["global_metrics"]["global_accuracy"][-1] == 0.95
    assert with_round["client_metrics"]["client-2"]["rounds_participated"] == 1
    assert with_report["client_metrics"]["client-2"]["rounds_participated"] == 2
    assert other["global_metrics"]["rounds"] == []
    versioned = isinstance(running.store, VersionedStore)
    assert (kept.builds, kept.hits) == ((4, 2) if versioned else (6, 0))


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
        # the sdn monitor's traffic accounting, two intervals: 780 + 20 of 1000 bytes FL, 120 control, 80 background
        Metric(
            "sdn_traffic",
            {"fl_bytes": 700, "control_bytes": 100, "background_bytes": 0, "total_bytes": 800},
            time_ns=now - 2 * 10**9,
            source="sdn_controller",
        ),
        Metric(
            "sdn_traffic",
            {"fl_bytes": 100, "control_bytes": 20, "background_bytes": 80, "total_bytes": 200},
            time_ns=now - 10**9,
            source="sdn_controller",
        ),
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
    assert body["traffic_analysis"] == {
        "fl_traffic_percentage": 80.0,
        "control_traffic_percentage": 12.0,
        "background_traffic_percentage": 8.0,
    }
    assert body["samples"] == {"network": 2, "probe_tcp": 2, "sdn_traffic": 2}
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "timeframe"


async def test_network_metrics_with_nothing_stored_is_all_null(running) -> None:
    with trio.fail_after(10):
        body = (await running.client.get("/api/v1/network/metrics")).json()
    assert body["topology"] == {"devices": None, "hosts": None, "links": None, "last_change": None}
    assert set(body["performance"].values()) == {None}
    assert set(body["traffic_analysis"].values()) == {None}
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


async def test_windows_longer_than_the_row_cap_are_read_whole(start_server) -> None:
    """Issue 8 item 6: with more rows in the window than ``max_limit`` (here 50), the newest topology, the peak, the
    means and the traffic shares cover the whole window (aggregated in SQL), and the newest rounds are kept."""
    agent = await start_server("max_limit = 50\n", store="sqlite_signal")
    now, step = now_ns(), 5 * 10**9
    records: list = []
    for i in range(200):  # i = 0 is the newest; the oldest row holds the peak
        at, old = now - (i + 1) * step, i >= 100
        fields = {"switches_count": 2 if old else 3, "bandwidth_total_mbps": 1000.0 if i == 199 else float(i)}
        records += [
            Metric("network", fields, time_ns=at, source="sdn_controller"),
            Metric("probe_tcp", {"rtt_avg_ms": 10.0 if old else 30.0}, time_ns=at, tags={"target": "fl"}),
            Metric("sdn_traffic", {"fl_bytes": 100 if old else 0, "background_bytes": 0 if old else 100}, time_ns=at),
        ]
    for r in range(1, 81):
        at = now - (81 - r) * step
        records.append(Metric("fl_round", {"accuracy": r / 100}, time_ns=at, round=r, source="fl_server"))
        records += [
            Metric("fl_client", {"accuracy": 0.5 + c / 10, "samples": 100 * c}, time_ns=at + c, round=r,
                   tags={"client": f"c{c}"})
            for c in (1, 2, 3)
        ]
    with trio.fail_after(20):
        before = agent.store.signal.count
        await agent.view.send(records)
        await agent.store.wait_for(before + len(records))
        async with httpx.AsyncClient(base_url=agent.find("listener", "server").url) as client:
            network = (await client.get("/api/v1/network/metrics", params={"timeframe": "1h"})).json()
            fl = (await client.get("/api/v1/fl/metrics")).json()
    agent.stop()
    assert network["topology"]["devices"] == 3  # the newest, not the newest of the oldest 50 rows
    assert network["performance"]["peak_bandwidth_mbps"] == 1000.0
    assert network["performance"]["average_latency_ms"] == 20.0
    assert network["traffic_analysis"]["fl_traffic_percentage"] == 50.0
    assert network["samples"] == {"network": 200, "probe_tcp": 200, "sdn_traffic": 200}
    assert fl["global_metrics"]["rounds"] == list(range(31, 81))  # the newest 50 rounds
    clients = fl["client_metrics"]
    assert set(clients) == {"c1", "c2", "c3"}
    assert clients["c3"]["rounds_participated"] == 80 and clients["c3"]["reports"] == 80
    assert clients["c3"]["participation_rate"] == 1.0 and clients["c3"]["data_contribution"] == 300
    assert clients["c1"]["avg_local_accuracy"] == pytest.approx(0.6)


async def test_clients_push_their_metrics_through_write_and_ingest(running) -> None:
    """Issue 8 item 9: an FL client (or an agent on its node) pushes ``fl_client`` records with tag ``client`` and
    ``round`` through ``/write`` (line protocol) or ``/api/v1/ingest`` (JSON); ``client_metrics`` then shows it."""
    start = now_ns() - 10_000_000_000
    await running.send(fl_records(start)[:3])  # rounds 1-3 of the server
    lines = "\n".join(
        f"fl_client,client=c1,round={r} accuracy={0.7 + r / 100},loss=0.5,training_time_s=12.5,samples=600i"
        for r in (1, 2, 3)
    )
    report = {"accuracy": 0.8, "loss": 0.4, "training_time_s": 20.0, "samples": 300}
    body = {"metrics": [{"name": "fl_client", "tags": {"client": "c2"}, "round": 2, "fields": report}]}
    with trio.fail_after(10):
        written = await running.client.post("/write", content=lines)
        ingested = await running.client.post("/api/v1/ingest", json=body)
        assert written.status_code == 204 and ingested.status_code == 200, (written.text, ingested.text)
        while True:  # accepted by the pipeline: stored a moment later
            clients = (await running.client.get("/api/v1/fl/metrics")).json()["client_metrics"]
            if {"c1", "c2"} <= set(clients):
                break
            await trio.sleep(0.01)
    c1, c2 = clients["c1"], clients["c2"]
    assert c1["participation_rate"] == 1.0 and c1["rounds_participated"] == 3 and c1["reports"] == 3
    assert c1["avg_local_accuracy"] == pytest.approx(0.72) and c1["avg_training_time"] == 12.5
    assert c1["data_contribution"] == 600 and c1["avg_local_loss"] == 0.5
    assert c2["participation_rate"] == round(1 / 3, 4) and c2["avg_local_accuracy"] == 0.8
    assert c2["avg_training_time"] == 20.0 and c2["data_contribution"] == 300


def test_round_arrays_fold_pages_keeping_each_rounds_newest_figures() -> None:
    from flcollector.plugins.server.summaries import RoundArrays

    def row(r: int, accuracy: float, at: int) -> Metric:
        return Metric("fl_round", {"accuracy": accuracy, "clients": 3}, time_ns=at, round=r)

    arrays = RoundArrays()
    assert arrays.arrays() == {
        "rounds": [], "global_accuracy": [], "global_loss": [], "participants_per_round": [],
        "round_duration_seconds": [],
    }
    arrays.add([row(3, 0.9, 300), row(2, 0.8, 200)])  # newest first, as the route reads them
    arrays.add([row(2, 0.1, 150), row(1, 0.7, 100), Metric("fl_round", {"accuracy": 0.5}, time_ns=50)])
    arrays.add([row(3, 0.95, 310)])  # a row written while the pages were read: later, so it wins
    got = arrays.arrays()
    assert got["rounds"] == [1, 2, 3]
    assert got["global_accuracy"] == [0.7, 0.8, 0.95]  # round 2's older row (0.1) lost to its newer one
    assert got["participants_per_round"] == [3, 3, 3] and got["global_loss"] == [None, None, None]
    assert (arrays.first_ns, arrays.last_ns) == (50, 310)  # every row counts for the time range, numbered or not
