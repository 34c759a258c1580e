"""The ``parquet`` exporter (needs the optional ``pyarrow``): typed columns, events in ``<name>_events.parquet``.

pyarrow is an extra (``pip install 'flcollector[parquet]'``, about 170 MB), so it is imported when an export runs:
the exporter is always registered and listed, and says how to install what it lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

from flcollector import Exporter, ExportSource, ExportTable, Record

from .tables import (
    Columns,
    Row,
    check_options,
    source_tables,
    stream_table,
    write_atomically,
    write_split,
)

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
            if name in ("name", "source", "experiment", "type", "level", "message", "details", "origin_id")
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
        opts = _options(options)
        return await write_split(records, path, opts["events"], partial(write_parquet, compression=opts["compression"]))

    async def export_source(self, source: ExportSource, path: Path, options: dict[str, Any]) -> list[Path]:
        """Stream the source's tables to ``path`` (events beside it), one row group per chunk."""
        opts = _options(options)
        return [
            await stream_table(table, target, partial(ParquetRows, table=table, compression=opts["compression"]))
            for table, target in source_tables(source, path, opts["events"])
        ]


def _options(options: dict[str, Any]) -> dict[str, Any]:
    """Check the options, and that pyarrow is there before any file is touched."""
    opts = check_options(ParquetExporter.name, options, DEFAULTS)
    if opts["compression"] not in COMPRESSIONS:
        raise ValueError(f"parquet exporter: compression must be one of {', '.join(COMPRESSIONS)}")
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise RuntimeError(INSTALL_HINT) from None
    return opts


class ParquetRows:
    """A Parquet file written chunk by chunk, with the schema the table's column types give."""

    def __init__(self, path: Path, table: ExportTable, compression: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        kinds = {"timestamp": pa.timestamp("ns", tz="UTC"), "int": pa.int64(), "float": pa.float64(),
                 "bool": pa.bool_(), "str": pa.string()}
        self.types = table.types
        self.schema = pa.schema([(name, kinds[kind]) for name, kind in zip(table.columns, table.types, strict=True)])
        self.time_ns = table.columns.index("time_ns")
        self.writer = pq.ParquetWriter(path, self.schema, compression=compression)

    def write(self, rows: list[Row]) -> None:
        """Append ``rows`` as one row group."""
        import pyarrow as pa

        columns = list(zip(*rows, strict=True))
        arrays = []
        for index, (kind, field) in enumerate(zip(self.types, self.schema, strict=True)):
            values = columns[self.time_ns if kind == "timestamp" else index]
            arrays.append(_array(pa, values, field.type, kind))
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        """Write the footer and close the file."""
        self.writer.close()

    def abort(self) -> None:
        """Close the file (it is deleted by the caller)."""
        self.writer.close()


def _array(pa: Any, values: Sequence[Any], arrow_type: Any, kind: str) -> Any:
    """One column as an Arrow array; values of another type in a text column become their text."""
    if kind == "timestamp":
        return pa.array(values, type=pa.int64()).cast(arrow_type)
    try:
        return pa.array(values, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if kind != "str":
            raise
        return pa.array([None if v is None else str(v) for v in values], type=arrow_type)


def write_parquet(path: Path, columns: Columns, compression: str) -> None:
    """Write ``columns`` to the Parquet file ``path`` (blocking)."""
    import pyarrow.parquet as pq

    table = to_table(columns)
    write_atomically(path, lambda tmp: pq.write_table(table, tmp, compression=compression))
