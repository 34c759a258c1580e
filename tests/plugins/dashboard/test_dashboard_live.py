"""End to end: the real ``fl``, ``policy`` and ``sdn`` monitors poll the emulated FL server, policy engine and SDN
controller; the dashboard routes, served by the real server plugin, must show exactly what the emulators produced."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import trio
from dashboard_helpers import Dashboard, running_dashboard
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.emulators.policy_engine import PolicyEngineEmulator
from flcollector.emulators.sdn_controller import SdnControllerEmulator

ROUNDS = 4


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    # The monitors poll every 50 ms; the dashboard can only be asked again (its answers are the signal).
    while not await check():  # noqa: ASYNC110
        await trio.sleep(0.02)


async def _stored(dash: Dashboard, rounds: int, decisions: int) -> bool:
    latest = await dash.get("/api/metrics/fl/rounds", limit=1, sort_order="desc")
    status = await dash.get("/api/metrics/fl/status")
    found = await dash.get("/api/policy/decisions", limit=1000)
    network = await dash.get("/api/metrics/latest", type="network")
    return (
        latest["latest_round"] == rounds
        and status["training_complete"]
        and len(found) == decisions
        and network["metrics"]["data"]["switches_count"] > 0
    )


async def test_dashboard_shows_what_the_sources_produced(tmp_path: Path, nursery: trio.Nursery) -> None:
    fl = FlServerEmulator(num_clients=3, max_rounds=ROUNDS, seed=3)
    policy = PolicyEngineEmulator()
    sdn = SdnControllerEmulator(switches=3, hosts_per_switch=2)
    for emulator in (fl, policy, sdn):
        await nursery.start(emulator.serve)
    for _ in range(ROUNDS):
        await fl.step()
    await policy.step()
    await sdn.step()
    monitors = "".join(
        f'\n[[monitors.{name}]]\nurl = "{emulator.url}"\ninterval = "50ms"\ntimeout = "5s"\n'
        for name, emulator in (("fl", fl), ("policy", policy), ("sdn", sdn))
    )
    with trio.fail_after(20):
        async with running_dashboard(tmp_path, served=True, extra=monitors) as dash:
            await _until(lambda: _stored(dash, ROUNDS, len(policy.decisions)))

            rounds = (await dash.get("/api/metrics/fl", limit=100))["metrics"]
            assert [r["round"] for r in rounds] == list(range(1, ROUNDS + 1))
            assert [r["accuracy"] for r in rounds] == [row["accuracy"] for row in fl.produced_rounds]
            assert rounds[-1]["training_complete"] is True
            status = await dash.get("/api/metrics/fl/status")
            assert "error" not in status and status["fl_server_available"] is True
            assert (status["current_round"], status["max_rounds"]) == (ROUNDS, ROUNDS)
            assert status["latest_accuracy"] == fl.produced_rounds[-1]["accuracy"]
            assert status["experiment"] and status["experiment"] == dash.agent.context.experiment
            config = await dash.get("/api/metrics/fl/config")
            assert (config["fl_server"]["model"], config["fl_server"]["dataset"]) == ("cnn", "mnist")
            assert config["policy_engine"] and config["status"] == "enhanced"

            decisions = await dash.get("/api/policy/decisions", limit=1000)
            assert {d["id"] for d in decisions} == {d["id"] for d in policy.decisions}
            series = await dash.get("/api/metrics", type="decision_count", limit=500)
            assert series["metrics"][0]["data"]["total"] == policy.checks["total"]

            topology = await dash.get("/api/network/topology/live")
            switch_ids = {s["dpid"] for s in topology["topology"]["switches"]}
            assert len(switch_ids) == 3 and len(topology["topology"]["hosts"]) == 6
            assert topology["topology"]["links"] and all(
                link["source"] in switch_ids and link["target"] in switch_ids for link in topology["topology"]["links"]
            )
            network = (await dash.get("/api/metrics/latest", type="network"))["metrics"]["data"]
            assert network["sdn_status"] == "connected" and network["hosts_count"] == 6
            assert network["links_count"] == len(topology["topology"]["links"])

            summary = await dash.get("/api/events/summary")
            assert summary["total"] > 0 and summary["by_component"].get("FL_SERVER", 0) >= 4 * ROUNDS
            first = await dash.get("/api/events", limit=5)
            newest_id = max(e["id"] for e in first["events"])
            later = (await dash.get("/api/events", since_id=newest_id))["events"]
            assert all(e["id"] > newest_id for e in later)  # only what arrived since (usually nothing)


def _key(match: object) -> str:
    return json.dumps(match, sort_keys=True)


async def test_flows_are_the_controllers_flows(tmp_path: Path, nursery: trio.Nursery) -> None:
    """Issue 8 item 4: ``/api/network/flows`` serves every flow FLOPY-NET's controller answers on ``/stats/flows``
    (DPIDs whose hex and decimal readings differ), and ``/api/flows/statistics`` gives ``flows_per_switch`` the type
    the dashboard's ``get_flow_statistics`` applies ``len()`` to (a dict per switch)."""
    sdn = SdnControllerEmulator(switches=3, hosts_per_switch=2)
    await nursery.start(sdn.serve)
    await sdn.step()
    async with httpx.AsyncClient(base_url=sdn.url) as client:
        controller = (await client.get("/stats/flows")).json()
    assert len(controller) >= 6
    expected = Counter((f"{f['datapath_id']:016x}", f["priority"], _key(f["match"])) for f in controller.values())
    monitor = f'\n[[monitors.sdn]]\nurl = "{sdn.url}"\ninterval = "50ms"\ntimeout = "5s"\n'
    with trio.fail_after(20):
        async with running_dashboard(tmp_path, served=True, extra=monitor) as dash:

            async def flows_stored() -> bool:
                return bool((await dash.get("/api/network/flows"))["flows"])

            await _until(flows_stored)
            body = await dash.get("/api/network/flows")
            served = Counter((f["switch_dpid"], f["priority"], _key(f["match"])) for f in body["flows"])
            assert served == expected
            assert body["summary"]["total_flows"] == len(controller)
            assert body["summary"]["switches_with_flows"] == len({dpid for dpid, _, _ in expected})
            stats = (await dash.get("/api/flows/statistics"))["flow_statistics"]
            per_switch = Counter(dpid for dpid, _, _ in expected.elements())
            assert stats["flows_per_switch"] == dict(per_switch)  # the dashboard: len(flows_per_switch) switches
            assert stats["total_flows"] == len(controller) and isinstance(stats["active_flows"], int)
            assert sum(len(rows) for rows in stats["flows"].values()) == len(controller)
