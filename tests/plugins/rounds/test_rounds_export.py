"""The ``rounds`` exporter: one JSON object per round per line, ``{round, aggregated_metrics, sites, network}``,
and the experiment's manifest beside it, from a real store through ``flcollector.export``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import trio
from flcollector.export import export_records
from flcollector.plugins.rounds.jsonl_export import RoundsExporter, manifest_path
from rounds_agent import agent_with_experiment
from rounds_records import EXP


async def test_the_round_table_exports_as_json_lines_with_its_manifest(tmp_path: Path,
                                                                        nursery: trio.Nursery) -> None:
    with trio.fail_after(20):
        agent = await agent_with_experiment(tmp_path, nursery)
        result = await export_records(agent.store, "rounds", tmp_path / "exp1", experiment=EXP)
        agent.stop()
    assert result.path == tmp_path / "exp1.jsonl"
    lines = [orjson.loads(line) for line in result.path.read_bytes().splitlines()]
    assert [line["round"] for line in lines] == [1, 2] and all(line["complete"] for line in lines)
    first = lines[0]
    assert {"round", "aggregated_metrics", "sites", "network"} <= set(first)
    assert first["aggregated_metrics"]["accuracy"] == 0.51 and first["sites"]["fl-client-1"]["bytes_to_server"] > 0
    assert first["network"]["configured_rtt_added_ms"] == 160 and first["experiment_id"] == EXP
    [manifest] = orjson.loads(manifest_path(result.path).read_bytes())["experiments"]
    assert manifest["experiment_id"] == EXP and manifest["status"] == "complete" and manifest["rounds"] == 2
    assert len(manifest["config"]["hash"]) == 64  # EXPERIMENT_STARTED is the experiment's own event: exported too
    assert [o["source"] for o in manifest["outages"]] == ["policy"]


async def test_unknown_options_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown option.*known: manifest"):
        await RoundsExporter().export([], tmp_path / "x.jsonl", {"lines": True})
    assert not (tmp_path / "x.jsonl").exists()
