"""The export API's component ``rounds``: the round table and the events its manifest is built from."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import orjson
import trio
from flcollector.export import export_selection
from flcollector.plugins.rounds.jsonl_export import RoundsExporter, manifest_path
from flcollector.selection import COMPONENTS, build_selection
from rounds_agent import agent_with_experiment
from rounds_records import EXP


def test_the_rounds_component_names_the_table_and_the_manifest_events() -> None:
    rounds = COMPONENTS["rounds"]
    assert set(rounds.metrics) == {"fl_round_network", "fl_round_client", "fl_experiment"}
    assert {"EXPERIMENT_STARTED", "AGENT_STARTED", "SOURCE_UNREACHABLE", "GNS3_PROJECT_SNAPSHOT"} <= set(
        rounds.event_types)


async def test_an_export_of_the_component_rebuilds_the_manifest(tmp_path: Path, nursery: trio.Nursery) -> None:
    with trio.fail_after(20):
        agent = await agent_with_experiment(tmp_path, nursery)
        selection = build_selection(["rounds"], [], experiment=EXP)
        result = await export_selection(agent.store, RoundsExporter(), tmp_path / "r.jsonl", selection)
        agent.stop()
    assert result.metrics > 0 and len(result.path.read_bytes().splitlines()) == 2
    text = manifest_path(result.path).read_text()
    assert '"policy"' in text and '"hash"' in text  # the outage and the configuration came with the selection


async def test_the_export_api_writes_the_round_table_with_its_manifest(tmp_path: Path, nursery: trio.Nursery) -> None:
    with trio.fail_after(30):
        agent = await agent_with_experiment(tmp_path, nursery)
        async with httpx.AsyncClient(base_url=agent.find("listener", "server").url, timeout=20) as client:
            refused = await client.post("/api/v1/export", json={"format": "rounds", "aggregation": "1m"})
            answer = await client.post("/api/v1/export", json={"experiment_id": EXP, "format": "rounds"})
            download = await client.get(answer.json()["download_url"])
        agent.stop()
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "aggregation"
    entry = answer.json()
    assert answer.status_code == 200 and entry["format"] == "rounds" and entry["components"] == ["rounds"]
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(files) == ["rounds.jsonl", "rounds.manifest.json"]
    assert [orjson.loads(line)["round"] for line in files["rounds.jsonl"].splitlines()] == [1, 2]
    [manifest] = orjson.loads(files["rounds.manifest.json"])["experiments"]
    assert manifest["experiment_id"] == EXP and [o["source"] for o in manifest["outages"]] == ["policy"]
