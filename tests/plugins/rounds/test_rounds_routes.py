"""The round table's routes on the real server: the rounds of an experiment, the experiments, a manifest, and
errors that name the parameter at fault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio
from rounds_agent import agent_with_experiment, start_agent
from rounds_records import EXP


@pytest.fixture
async def api(tmp_path: Path, nursery: trio.Nursery) -> AsyncIterator[httpx.AsyncClient]:
    """The API of an agent whose store holds the experiment's records and the round table made of them."""
    with trio.fail_after(20):
        agent = await agent_with_experiment(tmp_path, nursery)
    async with httpx.AsyncClient(base_url=agent.find("listener", "server").url, timeout=10) as client:
        yield client
    agent.stop()


async def test_the_rounds_of_an_experiment_one_document_each(api: httpx.AsyncClient) -> None:
    answer = (await api.get("/api/v1/fl/rounds", params={"experiment_id": EXP})).json()
    assert answer["experiment_id"] == EXP and answer["count"] == 2 and [r["round"] for r in answer["rounds"]] == [1, 2]
    one = answer["rounds"][0]
    assert set(one) >= {"round", "aggregated_metrics", "sites", "network", "coverage", "start", "end", "complete"}
    assert one["complete"] is True and one["start"].startswith("2027-01-15T08:00:00.5")
    assert one["aggregated_metrics"]["accuracy"] == 0.51
    assert one["sites"]["fl-client-1"]["bytes_to_server"] == pytest.approx(400_000)
    network = one["network"]
    assert network["configured_rtt_added_ms"] == 160 and network["port_rx_bytes"] == pytest.approx(402_000)
    only_two = (await api.get("/api/v1/fl/rounds", params={"from_round": 2, "to_round": 2})).json()
    assert [r["round"] for r in only_two["rounds"]] == [2] and only_two["experiment_id"] == EXP  # the newest


@pytest.mark.parametrize(("params", "param"), [
    ({"from_round": "x"}, "from_round"), ({"to_round": "1.5"}, "to_round"), ({"from_round": "-1"}, "from_round"),
    ({"from_round": "3", "to_round": "2"}, "to_round"),
])
async def test_a_bad_round_parameter_is_a_400_naming_it(api: httpx.AsyncClient, params: dict[str, str],
                                                        param: str) -> None:
    answer = await api.get("/api/v1/fl/rounds", params=params)
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error["status"] == 400 and error["param"] == param and repr(param) in error["message"]


async def test_the_experiments_and_a_manifest(api: httpx.AsyncClient) -> None:
    [entry] = (await api.get("/api/v1/experiments")).json()["experiments"]
    assert entry["id"] == EXP and entry["rounds"] == 2 and entry["status"] == "complete"
    assert entry["start"].startswith("2027-01-15T08:00:00.5")
    manifest = (await api.get(f"/api/v1/experiments/{EXP}")).json()
    assert manifest["experiment_id"] == EXP and manifest["flcollector"]["versions"]
    assert len(manifest["config"]["hash"]) == 64 and manifest["config"]["resolved"]["processors"][0]["name"] == "rounds"
    assert manifest["config"]["resolved"]["agent"]["interval"] > 0  # the [agent] settings the run had
    [link] = manifest["gns3"]["links"]
    assert link["conditions"]["rtt_added_ms"] == 160.0 and manifest["gns3"]["changes_applied"] == 1
    outages = [o for o in manifest["outages"] if o["source"] == "policy"]
    assert outages == [{"source": "policy", "from": "2027-01-15T08:00:05.500000Z", "to": "2027-01-15T08:00:06.500000Z"}]
    assert manifest["records"]["metrics_by_source"]["sdn_controller"] > 0
    assert manifest["records"]["metrics_by_source"]["rounds"] > 0
    missing = await api.get("/api/v1/experiments/nope")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "experiment_id"


async def test_without_a_store_the_routes_say_so(tmp_path: Path, nursery: trio.Nursery) -> None:
    agent = await start_agent(tmp_path, nursery, store=False)
    async with httpx.AsyncClient(base_url=agent.find("listener", "server").url, timeout=10) as client:
        for path in ("/api/v1/fl/rounds", "/api/v1/experiments", "/api/v1/experiments/x"):
            answer = await client.get(path)
            assert answer.status_code == 503 and "sqlite" in answer.json()["error"]["message"]
    agent.stop()

