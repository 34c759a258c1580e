"""The notebook exporter writes valid nbformat 4 JSON whose code loads the data file written beside it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import trio
from flcollector import Event, Metric, Record
from flcollector.plugins.exporters.notebook_export import NotebookExporter


def records() -> list[Record]:
    out: list[Record] = [
        Metric("fl_round", {"accuracy": 0.5 + n / 100, "loss": 1 / n}, time_ns=1_000 + n, experiment="exp7", round=n)
        for n in range(1, 6)
    ]
    out.append(Event("CONVERGENCE_DETECTED", "converged", time_ns=2_000, experiment="exp7", round=5, id=1))
    return out


def check_nbformat4(doc: dict[str, Any]) -> None:
    """The parts of the nbformat 4.5 schema a hand-written notebook can get wrong."""
    assert doc["nbformat"] == 4 and doc["nbformat_minor"] >= 5
    assert doc["metadata"]["kernelspec"]["language"] == "python"
    ids = [cell["id"] for cell in doc["cells"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids)
    for cell in doc["cells"]:
        assert cell["cell_type"] in ("markdown", "code") and cell["metadata"] == {}
        assert isinstance(cell["source"], list) and all(isinstance(line, str) for line in cell["source"])
        assert all(line.endswith("\n") for line in cell["source"][:-1])
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
            ast.parse("".join(cell["source"]))  # every code cell is valid Python
        else:
            assert set(cell) == {"cell_type", "id", "metadata", "source"}


@pytest.mark.parametrize("data", ["csv", "json"])
async def test_notebook_is_valid_and_loads_the_exported_data(tmp_path: Path, data: str) -> None:
    with trio.fail_after(10):
        path = await NotebookExporter().export(records(), tmp_path / "analysis.ipynb", {"data": data})
    assert path == tmp_path / "analysis.ipynb"
    doc = json.loads(path.read_text())
    check_nbformat4(doc)
    code = "".join("".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code")
    loaded = set(re.findall(r'"([\w.-]+\.(?:csv|json))"', code))
    assert loaded  # the notebook names its data files...
    assert all((tmp_path / name).exists() for name in loaded)  # ...and they were written beside it
    assert "accuracy" in code and "loss" in code and "plt.subplots" in code
    assert "exp7" in "".join(doc["cells"][0]["source"])


async def test_csv_notebook_reads_the_events_file_only_when_there_are_events(tmp_path: Path) -> None:
    with trio.fail_after(10):
        await NotebookExporter().export(records()[:-1], tmp_path / "n.ipynb", {"title": "my run"})
    doc = json.loads((tmp_path / "n.ipynb").read_text())
    assert "_events.csv" not in json.dumps(doc)
    assert "my run" in "".join(doc["cells"][0]["source"])


async def test_bad_data_option(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="data must be"):
        await NotebookExporter().export(records(), tmp_path / "n.ipynb", {"data": "xlsx"})
