"""Export N stored metrics raw to Parquet and CSV: rows/s and peak RSS, against a floor from the same run.

The store is built once (``sdn_port`` metrics of 192 series, five fields, two tags; ``--db`` keeps it between
runs). Each mode runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own:

* **floor**: one ``SELECT`` of the stored columns as they are (tags and fields left as JSON text), fetched 20,000
  rows at a time and written with the same writer (``csv.writer.writerows``; pyarrow's ``ParquetWriter``, one
  row group per chunk): what reading and writing cost with no work of ours in between;
* **export**: ``flcollector.export.export_records`` through the ``sqlite`` store and the ``csv``/``parquet``
  exporters: the layout pass, tags and fields split into typed columns, ISO times, the whole streaming path;
* with ``--aggregation 1h``, also the aggregated export to CSV (buckets computed by SQLite; no floor: the point is
  that Python never sees the rows).

Run: ``.venv/bin/python benchmarks/export_memory.py [--count 10000000] [--runs 1] [--formats parquet,csv]
[--aggregation 1h] [--db store.db]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SERIES = [(f"{s:016x}", str(p)) for s in range(8) for p in range(1, 25)]
CHUNK = 20_000
FLOOR_SQL = "SELECT time_ns, series_id, fields, source, experiment, round FROM metrics ORDER BY time_ns, id"


def build_store(path: Path, count: int) -> None:
    """Write ``count`` port metrics into a new store at ``path`` (the store's own writer, batches of 50,000)."""
    from flcollector import Metric
    from flcollector.plugins.sqlite.writer import StoreWriter

    writer = StoreWriter(path)
    base = 1_700_000_000 * 1_000_000_000
    batch = []
    for i in range(count):
        switch, port = SERIES[i % len(SERIES)]
        fields = {"rx_bps": i * 0.5, "tx_bps": i * 0.25, "rx_bytes": i * 10, "tx_bytes": i * 7, "interval_s": 5.0}
        batch.append(Metric("sdn_port", fields, base + (i // len(SERIES)) * 5_000_000_000,
                            {"switch": switch, "port": port}, "sdn_controller", "bench", i // 100_000))
        if len(batch) == 50_000:
            writer.write(batch)
            batch = []
    if batch:
        writer.write(batch)
    writer.close()


def floor(db: Path, fmt: str, out: Path) -> int:
    """One SELECT written with the same writer; returns the rows written."""
    import sqlite3

    conn = sqlite3.connect(db)
    cursor = conn.execute(FLOOR_SQL)
    names = ["time_ns", "series_id", "fields", "source", "experiment", "round"]
    rows = 0
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            while chunk := cursor.fetchmany(CHUNK):
                writer.writerows(chunk)
                rows += len(chunk)
        return rows
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("time_ns", pa.int64()), ("series_id", pa.int64()), ("fields", pa.string()),
                        ("source", pa.string()), ("experiment", pa.string()), ("round", pa.int64())])
    with pq.ParquetWriter(out, schema, compression="zstd") as parquet:
        while chunk := cursor.fetchmany(CHUNK):
            columns = list(zip(*chunk, strict=True))
            parquet.write_table(pa.Table.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema))
            rows += len(chunk)
    return rows


def export(db: Path, fmt: str, out: Path, aggregation: str | None = None) -> int:
    """The real export; returns the rows written."""
    import logging

    import trio
    from flcollector import RunContext, Runtime
    from flcollector.export import export_records
    from flcollector.plugins.sqlite import SqliteOptions, SqliteStore
    from flcollector.stats import StatsRegistry

    async def run() -> int:
        runtime = Runtime("sqlite", "sqlite", logging.getLogger("bench"),
                          StatsRegistry().register("sink", "sqlite", "sqlite"), RunContext(), db.parent)
        store = SqliteStore(SqliteOptions(path=str(db), retention=0), runtime)  # type: ignore[arg-type]
        async with store:
            result = await export_records(store, fmt, out, aggregation=aggregation)
        return result.metrics + result.events

    return trio.run(run)


def child(mode: str, db: Path, fmt: str, out: Path) -> None:
    """Run one mode and print its figures as JSON (in a subprocess of its own)."""
    started, cpu = time.perf_counter(), time.process_time()
    if mode.startswith("aggregate-"):
        rows = export(db, fmt, out, mode.removeprefix("aggregate-"))
    else:
        rows = (floor if mode == "floor" else export)(db, fmt, out)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "wall": wall, "cpu": time.process_time() - cpu, "peak_mib": peak,
                      "bytes": out.stat().st_size}))


def measure(mode: str, db: Path, fmt: str, folder: Path) -> dict[str, Any]:
    out = folder / f"{mode}.{fmt}"
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--db", str(db), "--formats", fmt,
                           "--out", str(out)], capture_output=True, text=True, check=True)
    out.unlink(missing_ok=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--db", type=Path, help="keep the store here (built when missing)")
    parser.add_argument("--aggregation", help="also export aggregated to CSV with this bucket, e.g. 1h")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.formats, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="flcollector-export-bench-") as tmp:
        folder = Path(tmp)
        db = args.db or folder / "store.db"
        if not db.exists():
            started = time.perf_counter()
            build_store(db, args.count)
            print(f"built {db} with {args.count:,} metrics in {time.perf_counter() - started:.0f} s", flush=True)
        for fmt in args.formats.split(","):
            results: dict[str, list[dict[str, Any]]] = {"floor": [], "export": []}
            for _ in range(args.runs):
                for mode in results:
                    results[mode].append(measure(mode, db, fmt, folder))
                    run = results[mode][-1]
                    print(f"  {fmt:8} {mode:7} {run['rows']:>11,} rows  {run['wall']:7.1f} s  "
                          f"{run['rows'] / run['wall']:>9,.0f} rows/s  cpu {run['cpu']:6.1f} s  "
                          f"peak {run['peak_mib']:6.1f} MiB  file {run['bytes'] / 2**20:7.1f} MiB", flush=True)
            ratios = [e["wall"] / f["wall"] for f, e in zip(results["floor"], results["export"], strict=True)]
            rate = statistics.median(r["rows"] / r["wall"] for r in results["export"])
            peak = max(r["peak_mib"] for r in results["export"])
            cpu = statistics.median(e["cpu"] / f["cpu"] for f, e in zip(results["floor"], results["export"],
                                                                       strict=True))
            print(f"{fmt}: export {rate:,.0f} rows/s, {statistics.median(ratios):.2f}x the floor's time "
                  f"(runs {', '.join(f'{r:.2f}' for r in ratios)}), {cpu:.2f}x its CPU, peak RSS {peak:.1f} MiB",
                  flush=True)
        if args.aggregation:
            for _ in range(args.runs):
                run = measure(f"aggregate-{args.aggregation}", db, "csv", folder)
                print(f"  csv {args.aggregation} aggregate: {args.count:,} stored -> {run['rows']:,} rows in "
                      f"{run['wall']:.1f} s (cpu {run['cpu']:.1f} s), peak {run['peak_mib']:.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
