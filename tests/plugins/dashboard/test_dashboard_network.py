"""The dashboard's network routes: topology (stored and "live"), flows, flow statistics and performance, all from
the latest SDN snapshots, with well-shaped empty answers before the first one."""

from __future__ import annotations

from pathlib import Path

import trio
from dashboard_helpers import network_records, running_dashboard
from flcollector import Event

SWITCHES = ["0000000000000001", "0000000000000002"]


async def test_topology_has_links_joined_to_switches(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path, experiment="exp_net") as dash:
            empty = await dash.get("/api/network/topology", source="all", include_metrics="true", format="detailed")
            assert empty["nodes"] == [] and empty["links"] == [] and empty["statistics"]["total_nodes"] == 0
            assert empty["project_info"]["name"] == "no_project"
            await dash.send(network_records())
            body = await dash.get("/api/network/topology", source="all", include_metrics="true", format="detailed")
            assert body["project_info"] == {"name": "exp_net", "id": "exp_net", "status": "connected"}
            assert len(body["links"]) == 2  # upstream bug §5 #15: always [] for source=all
            switch_ids = {s["dpid"] for s in body["switches"]}
            assert switch_ids == set(SWITCHES)
            assert all(link["source"] in switch_ids and link["target"] in switch_ids for link in body["links"])
            assert [h["ip"] for h in body["hosts"]] == ["10.0.0.1", "10.0.0.2"]
            assert body["statistics"] == {
                "total_nodes": 4,
                "total_links": 2,
                "total_switches": 2,
                "total_hosts": 2,
                "gns3_links": 0,
                "sdn_links": 2,
            }
            metrics = body["metrics"]
            assert metrics["total_flows"] == 3 and metrics["total_ports"] == 4 and metrics["avg_latency_ms"] == 2.5
            assert metrics["sdn_status"] == "connected" and isinstance(body["collection_time"], str)
            sdn_only = await dash.get("/api/network/topology", source="sdn")
            assert sdn_only["nodes"] == [] and len(sdn_only["switches"]) == 2
            summary = await dash.get("/api/network/topology", format="summary")
            assert summary["summary"]["total_links"] == 2 and summary["status"]["sdn_connected"] is True
            bad = await dash.client.get("/api/network/topology", params={"source": "ospf"})
            assert bad.status_code == 400 and bad.json()["param"] == "source"


async def test_live_topology_from_latest_snapshot(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/network/topology/live")
            assert empty["topology"]["switches"] == [] and empty["source"] == "no_data"
            assert empty["statistics"]["total_switches"] == 0
            await dash.send(network_records())
            body = await dash.get("/api/network/topology/live")
            topo = body["topology"]
            assert [s["dpid"] for s in topo["switches"]] == SWITCHES
            assert [p["state"] for p in topo["switches"][0]["ports"]] == ["up", "unknown"]
            assert len(topo["links"]) == 2 and len(topo["hosts"]) == 2 and len(topo["nodes"]) == 4
            assert body["statistics"]["total_links"] == 2
            assert body["timestamp"] == "2025-06-15T15:06:40.000000+00:00" and body["source"] == "latest_snapshot"


async def test_flows_from_latest_flow_snapshot(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/network/flows")
            assert empty["flows"] == [] and empty["summary"]["total_flows"] == 0
            await dash.send(network_records())
            body = await dash.get("/api/network/flows")
            assert [f["switch_dpid"] for f in body["flows"]] == [SWITCHES[0], SWITCHES[0], SWITCHES[1]]
            assert [f["priority"] for f in body["flows"]] == [1, 0, 1]
            assert body["summary"]["total_flows"] == 3 and body["summary"]["switches_with_flows"] == 2
            assert body["summary"]["priority_stats"] == {"1": 2, "0": 1}


async def test_flow_statistics_count_active_flows(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/flows/statistics")
            assert empty["flow_statistics"]["total_flows"] == 0
            assert empty["utilization_metrics"]["efficiency_rating"] == "unknown"
            await dash.send(network_records())
            body = await dash.get("/api/flows/statistics")
            stats = body["flow_statistics"]
            assert (stats["total_flows"], stats["active_flows"], stats["average_flows_per_switch"]) == (3, 2, 1.5)
            assert stats["flows_per_switch"] == {SWITCHES[0]: 2, SWITCHES[1]: 1}
            assert stats["table_distribution"] == {"0": 3} and stats["priority_distribution"] == {"1": 2, "0": 1}
            assert len(stats["flows"][SWITCHES[0]]) == 2
            assert stats["flows"][SWITCHES[0]][0]["match_description"] == "in_port=1"
            utilization = body["utilization_metrics"]
            assert round(utilization["efficiency_percentage"], 2) == round(200 / 3, 2)
            assert utilization["efficiency_rating"] == "good"
            assert body["collection_timestamp"] == "2025-06-15T15:06:40.000000+00:00"


async def test_performance_metrics_shape_and_health(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/performance/metrics")
            assert empty["network_health"]["status"] == "unknown" and empty["flows"]["total"] == 0
            await dash.send(network_records())
            body = await dash.get("/api/performance/metrics")
            assert body["bandwidth"]["current_total_bps"] == 12e6 and body["bandwidth"]["peak_bandwidth_bps"] == 20e6
            assert body["latency"] == {"average_ms": 2.5, "min_ms": 1.0, "max_ms": 4.0}
            assert body["flows"]["total"] == 3 and body["flows"]["per_switch_average"] == 1.5
            assert body["ports"] == {"total": 4, "up": 4, "errors": 2}
            assert body["totals"]["packets_transferred"] == 10_000 and body["rates"]["packets_per_second"] == 100.0
            assert body["health_score"] == 93
            health = body["network_health"]
            # 2 errors in 10k packets and 0.5 % loss: error impact 0.2 + 1.0; latency under 10 ms costs nothing
            assert health["factors"] == {
                "latency_impact": 0.0,
                "bandwidth_impact": 0.0,
                "error_impact": 1.2,
                "flow_impact": 0.0,
            }
            assert health["score"] == 98.8 and health["status"] == "excellent"
            assert body["timestamp"] == "2025-06-15T15:06:40.000000+00:00"


async def test_controller_shaped_snapshots_are_normalised(tmp_path: Path) -> None:
    # A snapshot in the controller's own shapes (as upstream stored it, or as an ingest client may push it):
    # integer link DPIDs must still join to the 16-hex switch DPIDs, hosts get their IP and attachment point.
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(network_records(raw_topology=True))
            topo = (await dash.get("/api/network/topology/live"))["topology"]
            switch_ids = {s["dpid"] for s in topo["switches"]}
            assert switch_ids == set(SWITCHES)
            assert [(link["source"], link["target"]) for link in topo["links"]] == [
                (SWITCHES[0], SWITCHES[1]),
                (SWITCHES[1], SWITCHES[0]),
            ]
            assert [(h["ip"], h["dpid"], h["port"]) for h in topo["hosts"]] == [
                ("10.0.0.1", SWITCHES[0], 1),
                ("10.0.0.2", SWITCHES[1], 1),
            ]
            assert [p["state"] for p in topo["switches"][0]["ports"]] == [0, "unknown"]
            assert sorted(n["type"] for n in topo["nodes"]) == ["host", "host", "switch", "switch"]


async def test_without_a_store_latest_answers_come_from_the_cache(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path, store=False) as dash:
            assert dash.agent.store is None and dash.agent.find("sink", "cache") is not None
            await dash.send(network_records())
            network = (await dash.get("/api/metrics/latest", type="network"))["metrics"]["data"]
            assert network["switches_count"] == 2 and len(network["topology"]["links"]) == 2
            assert (await dash.get("/api/network/flows"))["summary"]["total_flows"] == 3
            # queries that need the store answer well-shaped and empty instead of failing
            events = await dash.get("/api/events")
            assert events["events"] == [] and events["total"] == 0
            assert (await dash.get("/api/metrics/fl"))["metrics"] == []


async def test_flow_answers_are_kept_per_snapshot_and_follow_a_new_one(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(network_records())
            flows, stats = await dash.get("/api/network/flows"), await dash.get("/api/flows/statistics")
            assert await dash.get("/api/network/flows") == flows  # the kept answer is the answer
            assert await dash.get("/api/flows/statistics") == stats
            one = {"flows": [{"switch_dpid": 3, "priority": 7, "packet_count": 0}]}
            await dash.send([Event("FLOW_SNAPSHOT", "1 flow", 1_750_000_001 * 10**9, "sdn_controller", details=one)])
            newer, newer_stats = await dash.get("/api/network/flows"), await dash.get("/api/flows/statistics")
    assert len(flows["flows"]) == 3 and stats["flow_statistics"]["total_flows"] == 3
    assert [(f["switch_dpid"], f["priority"]) for f in newer["flows"]] == [("0000000000000003", 7)]
    assert newer["summary"]["priority_stats"] == {"7": 1} and newer["timestamp"] == "2025-06-15T15:06:41.000000+00:00"
    assert newer_stats["flow_statistics"]["total_flows"] == 1 and newer_stats["flow_statistics"]["active_flows"] == 0
