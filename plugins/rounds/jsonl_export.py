"""The ``rounds`` exporter: the round table as JSON lines, one object per round, ``{round, aggregated_metrics,
sites, network}`` (the shape other FL frameworks' per-round logs use, so their tooling reads it), plus the round's
``experiment_id``, window, ``coverage`` and ``complete``; and each experiment's manifest beside it
(``<name>.manifest.json``: ``{"experiments": [manifest, ...]}``), built from the exported records.

``flcollector export -f rounds -o exp1.jsonl --experiment exp1``. Options: ``manifest`` (true).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import trio
from flcollector import Exporter, Metric, Record

from .documents import round_documents
from .experiments import EXPERIMENT
from .manifest import manifest
from .readers import RecordsReader

DEFAULTS: dict[str, Any] = {"manifest": True}


def manifest_path(path: Path) -> Path:
    """Where the manifest of an export written to ``path`` goes."""
    return path.with_name(f"{path.stem}.manifest.json")


class RoundsExporter(Exporter):
    """See the module docstring."""

    name: ClassVar[str] = "rounds"
    suffix: ClassVar[str] = ".jsonl"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write the rounds of ``records`` to ``path`` (and the manifest beside it); return ``path``."""
        unknown = sorted(set(options) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"rounds exporter: unknown option(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
        if not isinstance(options.get("manifest", True), bool):
            raise ValueError(f"rounds exporter: option manifest expects bool, got {options['manifest']!r}")
        metrics = sorted((r for r in records if isinstance(r, Metric)), key=lambda m: m.time_ns)
        lines = [orjson.dumps(document) + b"\n" for document in round_documents(metrics)]
        await trio.to_thread.run_sync(_write, path, b"".join(lines))
        if options.get("manifest", True):
            reader = RecordsReader(records)
            summaries = {m.tags.get("experiment_id") or m.experiment: m for m in metrics if m.name == EXPERIMENT}
            names = sorted({str(m.experiment) for m in metrics if m.experiment} | {n for n in summaries if n})
            documents = [await manifest(reader, name, summaries.get(name)) for name in names]
            body = orjson.dumps({"experiments": documents}, option=orjson.OPT_INDENT_2)
            await trio.to_thread.run_sync(_write, manifest_path(path), body)
        return path


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so nobody reads a half-written export."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
