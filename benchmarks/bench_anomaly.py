"""Cost of ``anomaly.process`` on 1000-record batches, against floors measured in the same run.

Floors: a bare loop that only classifies each record (``isinstance`` + one dict lookup: the least any processor
must do), and a bare loop that also writes each watched value into a preallocated numpy ring per series (the least
a windowed detector must do). Run: ``.venv/bin/python benchmarks/bench_anomaly.py [--batches 200] [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from flcollector import Metric, Record, RunContext, Runtime
from flcollector.options import build_options
from flcollector.plugins.anomaly.processor import AnomalyProcessor
from flcollector.stats import StatsRegistry

BATCH = 1000


def unwatched(i: int) -> Metric:
    return Metric("system_memory", {"used_percent": float(i % 97)}, time_ns=i, tags={"host": "h1"})


def rtt(i: int) -> Metric:
    return Metric("probe_tcp", {"rtt_avg_ms": 20.0 + (i * 7919 % 13) / 10}, time_ns=i, tags={"target": f"t{i % 100}"})


def port(i: int) -> Metric:
    fields = {"rx_bps": 1e8 + (i * 7919 % 1000), "tx_bps": 5e7 + (i * 104729 % 1000), "rx_drops_per_s": 0.0}
    return Metric("sdn_port", fields, time_ns=i, tags={"switch": f"s{i % 8}", "port": str(i % 24)})


def make_processor() -> AnomalyProcessor:
    runtime = Runtime(
        instance="anomaly",
        plugin="anomaly",
        log=logging.getLogger("bench"),
        stats=StatsRegistry().register("processor", "anomaly", "anomaly"),
        context=RunContext(),
        data_dir=Path("."),
    )
    return AnomalyProcessor(build_options(AnomalyProcessor.Options, {}), runtime)


def floor_classify(batch: list[Record]) -> None:
    watched = {"probe_tcp": 1, "sdn_port": 2}
    for record in batch:
        if isinstance(record, Metric):
            watched.get(record.name)


def make_floor_ring() -> Callable[[list[Record]], None]:
    rings: dict[tuple[str, str, tuple[tuple[str, str], ...]], list] = {}
    fields_of = {"probe_tcp": ("rtt_avg_ms",), "sdn_port": ("rx_bps", "tx_bps")}

    def run(batch: list[Record]) -> None:
        for record in batch:
            if not isinstance(record, Metric):
                continue
            for field in fields_of.get(record.name, ()):
                key = (record.name, field, tuple(sorted(record.tags.items())))
                slot = rings.get(key)
                if slot is None:
                    slot = rings[key] = [np.zeros(60), 0]
                slot[0][slot[1] % 60] = record.fields[field]
                slot[1] += 1

    return run


def measure(fn: Callable[[list[Record]], object], batches: list[list[Record]], repeat: int) -> float:
    """Median microseconds per 1000-record batch over ``repeat`` passes (the first pass warms the windows)."""
    for batch in batches[:20]:
        fn(batch)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for batch in batches:
            fn(batch)
        times.append((time.perf_counter() - start) / len(batches) * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"anomaly.process, {BATCH}-record batches x {args.batches}, median of {args.repeat} (us per batch)")
    print(
        f"{'workload':44} {'floor classify':>14} {'floor ring':>11} {'anomaly':>9} {'vs classify':>11} "
        f"{'vs ring':>8} {'ns/record':>9}"
    )
    for label, make in (
        ("unwatched (system_memory)", unwatched),
        ("watched: probe_tcp rtt, 100 series", rtt),
        ("watched: sdn_port rx+tx, 192 series x2 fields", port),
    ):
        batches: list[list[Record]] = [[make(b * BATCH + i) for i in range(BATCH)] for b in range(args.batches)]
        classify = measure(floor_classify, batches, args.repeat)
        ring = measure(make_floor_ring(), batches, args.repeat)
        anomaly = measure(make_processor().process, batches, args.repeat)
        print(
            f"{label:44} {classify:14.0f} {ring:11.0f} {anomaly:9.0f} {anomaly / classify:10.1f}x "
            f"{anomaly / ring:7.1f}x {anomaly * 1000 / BATCH:9.0f}"
        )


if __name__ == "__main__":
    main()
