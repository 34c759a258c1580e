"""The export API's component ``rounds``: the round table and the events its manifest is built from."""

from __future__ import annotations

from pathlib import Path

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
