"""The ``notebook`` exporter: the data (CSV or JSON) plus a Jupyter notebook that loads and plots it.

The notebook is nbformat 4.5 JSON written by hand (no nbformat dependency). It reads the data files by their
file names, relative to the notebook, so the folder can be moved or zipped as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import trio
from flcollector import Exporter, Record, now_ns

from .csv_export import CsvExporter
from .json_export import JsonExporter
from .notebook_cells import csv_cells, intro_cell, json_cells
from .tables import check_options, events_path, split, write_atomically

DEFAULTS: dict[str, Any] = {"data": "csv", "title": ""}


def notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Return an nbformat 4.5 document holding ``cells`` (each cell gets a unique id, as 4.5 requires)."""
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "pygments_lexer": "ipython3"},
            "flcollector": {"generated_ns": now_ns()},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


class NotebookExporter(Exporter):
    """Writes ``<stem>.csv`` (or ``<stem>.json``) beside ``path`` and a notebook at ``path`` that analyses it.

    Options: ``data`` (``csv`` or ``json``; default csv), ``title`` (default: the experiment name).
    """

    name: ClassVar[str] = "notebook"
    suffix: ClassVar[str] = ".ipynb"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write the data file(s) and the notebook; return the notebook's path."""
        opts = check_options(self.name, options, DEFAULTS)
        if opts["data"] not in ("csv", "json"):
            raise ValueError(f"notebook exporter: data must be 'csv' or 'json', got {opts['data']!r}")
        metrics, events = split(records)
        experiments = sorted({r.experiment for r in records if r.experiment})
        title = opts["title"] or ", ".join(experiments) or "flcollector export"
        intro = intro_cell(title, len(metrics), len(events), experiments)
        if opts["data"] == "csv":
            data = await CsvExporter().export(records, path.with_suffix(".csv"), {})
            cells = [intro, *csv_cells(data.name, events_path(data).name if events else None)]
        else:
            data = await JsonExporter().export(records, path.with_suffix(".json"), {})
            cells = [intro, *json_cells(data.name)]
        document = orjson.dumps(notebook(cells), option=orjson.OPT_INDENT_2) + b"\n"
        await trio.to_thread.run_sync(write_atomically, path, lambda tmp: tmp.write_bytes(document))
        return path
