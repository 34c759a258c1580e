"""Write N metrics straight into the sqlite, jsonl and cache sinks (no pipeline), against floors from the same run.

Floors: ``sqlite-bare`` is one ``executemany`` of prebuilt tuples per batch into a 3-column table without indexes;
``sqlite-schema`` is the same into the store's own schema and indexes (what is left is our Python per record);
``jsonl-bare`` is one ``orjson.dumps`` per prebuilt dict into a buffered file. Records are built before timing.
Run: ``.venv/bin/python benchmarks/storage_sinks.py [--count 1000000] [--runs 3] [--batches 1000,2000,5000]``.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import orjson
import trio
from flcollector import Metric, Record, RunContext, Runtime, record_to_dict
from flcollector.options import build_options
from flcollector.plugins.cache import RecentCache
from flcollector.plugins.jsonl import JsonlSink
from flcollector.plugins.sqlite import SqliteStore
from flcollector.plugins.sqlite.schema import open_writer
from flcollector.stats import StatsRegistry


def make_metrics(count: int) -> list[Record]:
    """Port counters of 8 switches x 24 ports (192 series, round robin), three float fields each."""
    base = time.time_ns()
    return [
        Metric(
            "sdn_port",
            {"rx_bps": float(i % 977) * 1.5, "tx_bps": float(i % 331), "rx_drops_per_s": 0.0},
            base + i,
            {"switch": f"s{(i // 24) % 8}", "port": str(i % 24)},
            "sdn_controller",
            "bench",
            i // 100_000,
        )
        for i in range(count)
    ]


def build(cls: type[Any], folder: Path, options: dict[str, Any]) -> Any:
    runtime = Runtime(
        instance=cls.name,
        plugin=cls.name,
        log=logging.getLogger("bench"),
        stats=StatsRegistry().register("sink", cls.name, cls.name),
        context=RunContext(),
        data_dir=folder,
    )
    return cls(build_options(cls.Options, options), runtime)


def time_sink(cls: type[Any], options: dict[str, Any]) -> Callable[[Sequence[Record], int, Path], tuple[float, float]]:
    def run(records: Sequence[Record], batch: int, folder: Path) -> tuple[float, float]:
        sink = build(cls, folder, options)

        async def main() -> tuple[float, float]:
            async with sink:
                started, cpu0 = time.perf_counter(), time.process_time()
                for i in range(0, len(records), batch):
                    await sink.write(records[i : i + batch])
            return time.perf_counter() - started, time.process_time() - cpu0  # includes close(): fsync, checkpoint

        return trio.run(main)

    return run


def all_three(records: Sequence[Record], batch: int, folder: Path) -> tuple[float, float]:
    """The three sinks at once, each writing every batch from its own task, as the pipeline runs them."""
    sinks = [
        build(SqliteStore, folder, {"retention": "0s"}),
        build(JsonlSink, folder, {}),
        build(RecentCache, folder, {}),
    ]

    async def feed(sink: Any) -> None:
        async with sink:
            for i in range(0, len(records), batch):
                await sink.write(records[i : i + batch])

    async def main() -> tuple[float, float]:
        started, cpu0 = time.perf_counter(), time.process_time()
        async with trio.open_nursery() as nursery:
            for sink in sinks:
                nursery.start_soon(feed, sink)
        return time.perf_counter() - started, time.process_time() - cpu0

    return trio.run(main)


def sqlite_bare(records: Sequence[Record], batch: int, folder: Path) -> tuple[float, float]:
    rows = [(r.time_ns, "sdn_port", 1.0) for r in records]
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE m (t INTEGER, n TEXT, v REAL)")
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO m VALUES (?, ?, ?)", rows[i : i + batch])
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started, time.process_time() - cpu0


def sqlite_schema(records: Sequence[Record], batch: int, folder: Path) -> tuple[float, float]:
    conn = open_writer(folder / "schema.db")
    fields = orjson.dumps(cast(Metric, records[0]).fields).decode()
    series: dict[tuple[str, ...], int] = {}  # the same series ids the store would give these records
    rows = [
        (
            r.time_ns,
            series.setdefault(tuple(cast(Metric, r).tags.values()), len(series)),
            fields,
            "sdn_controller",
            "bench",
            0,
        )
        for r in records
    ]
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO metrics (time_ns, series_id, fields, source, experiment, round) VALUES (?, ?, ?, ?, ?, ?)",
            rows[i : i + batch],
        )
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started, time.process_time() - cpu0


def jsonl_bare(records: Sequence[Record], batch: int, folder: Path) -> tuple[float, float]:
    dicts = [record_to_dict(r) for r in records]
    started, cpu0 = time.perf_counter(), time.process_time()
    with open(folder / "bare.jsonl", "ab") as out:
        for i in range(0, len(dicts), batch):
            for d in dicts[i : i + batch]:
                out.write(orjson.dumps(d, option=orjson.OPT_APPEND_NEWLINE))
            out.flush()
    return time.perf_counter() - started, time.process_time() - cpu0


MODES: dict[str, Callable[[Sequence[Record], int, Path], tuple[float, float]]] = {
    "sqlite-bare": sqlite_bare,
    "sqlite-schema": sqlite_schema,
    "sqlite": time_sink(SqliteStore, {"retention": "0s"}),
    "jsonl-bare": jsonl_bare,
    "jsonl": time_sink(JsonlSink, {"fsync": "batch"}),
    "cache": time_sink(RecentCache, {}),
    "all-three": all_three,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", default="1000,2000,5000")
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    records = make_metrics(args.count)
    print(f"{args.count:,} metrics per run, median of {args.runs} runs")
    print(f"{'mode':<15}{'batch':>7}{'seconds':>9}{'metrics/s':>12}{'us/metric':>11}{'cpu us/m':>11}")
    for batch in (int(b) for b in args.batches.split(",")):
        for mode in args.modes.split(","):
            times, cpus = [], []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    wall_s, cpu_s = MODES[mode](records, batch, Path(tmp))
                    times.append(wall_s)
                    cpus.append(cpu_s)  # CPU of all threads: steadier than wall time on a shared VM
            wall, cpu = statistics.median(times), statistics.median(cpus)
            per = 1e6 / args.count
            print(
                f"{mode:<15}{batch:>7}{wall:>9.2f}{args.count / wall:>12,.0f}{wall * per:>11.2f}{cpu * per:>11.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
