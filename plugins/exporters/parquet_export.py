"""The ``parquet`` exporter (needs the optional ``pyarrow``): typed columns, events in ``<name>_events.parquet``.

pyarrow is an extra (``pip install 'flcollector[parquet]'``, about 170 MB), so it is imported when an export runs:
the exporter is always registered and listed, and says how to install what it lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import trio
from flcollector import Exporter, Record

from .tables import Columns, check_options, event_columns, events_path, metric_columns, split, write_atomically

DEFAULTS: dict[str, Any] = {"events": True, "compression": "zstd"}
COMPRESSIONS = ("none", "snappy", "gzip", "brotli", "lz4", "zstd")
INSTALL_HINT = "the parquet exporter needs pyarrow: pip install 'flcollector[parquet]'"


def _column_type(values: list[Any]) -> Literal["bool", "int", "float", "str"]:
    """Pick one Parquet type per column: bool, int64, float64, or text for anything mixed."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    return "str"


def to_table(columns: Columns) -> Any:
    """Return a ``pyarrow.Table`` for ``columns``: ``time`` is a UTC nanosecond timestamp, the rest typed."""
    import pyarrow as pa

    arrays = {}
    for name, values in columns.items():
        if name == "time":
            ns = pa.array(columns["time_ns"], type=pa.int64())
            arrays[name] = ns.cast(pa.timestamp("ns", tz="UTC"))
            continue
        kind = (
            "str"
            if name in ("name", "source", "experiment", "type", "level", "message", "details")
            else (_column_type(values))
        )
        if kind == "str":
            arrays[name] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        elif kind == "float":
            arrays[name] = pa.array([None if v is None else float(v) for v in values], type=pa.float64())
        else:
            arrays[name] = pa.array(values, type=pa.int64() if kind == "int" else pa.bool_())
    return pa.table(arrays)


class ParquetExporter(Exporter):
    """Writes metrics to ``path`` and, when there are any, events to ``<stem>_events.parquet``.

    Options: ``events`` (default true), ``compression`` (one of none, snappy, gzip, brotli, lz4, zstd; default zstd).
    """

    name: ClassVar[str] = "parquet"
    suffix: ClassVar[str] = ".parquet"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write ``records`` to ``path`` (and the events file) and return ``path``."""
        opts = check_options(self.name, options, DEFAULTS)
        if opts["compression"] not in COMPRESSIONS:
            raise ValueError(f"parquet exporter: compression must be one of {', '.join(COMPRESSIONS)}")
        try:
            import pyarrow.parquet  # noqa: F401  (checked before any file is touched)
        except ImportError:
            raise RuntimeError(INSTALL_HINT) from None
        metrics, events = split(records)
        await trio.to_thread.run_sync(write_parquet, path, metric_columns(metrics), opts["compression"])
        if opts["events"] and events:
            await trio.to_thread.run_sync(write_parquet, events_path(path), event_columns(events), opts["compression"])
        return path


def write_parquet(path: Path, columns: Columns, compression: str) -> None:
    """Write ``columns`` to the Parquet file ``path`` (blocking)."""
    import pyarrow.parquet as pq

    table = to_table(columns)
    write_atomically(path, lambda tmp: pq.write_table(table, tmp, compression=compression))
