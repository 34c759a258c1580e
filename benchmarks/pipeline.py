"""Push N metrics through the whole pipeline into sqlite + jsonl + cache, against a floor measured in the same run.

The floor writes the same records with a bare loop: one ``orjson.dumps`` per record into a buffered file, plus one
SQLite ``executemany`` per batch in one transaction. Each mode runs in its own subprocess so that peak RSS is its
own. Run: ``.venv/bin/python benchmarks/pipeline.py [--count 1000000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BATCH = 1000


def make_batches(count: int) -> Iterator[list]:
    """Yield batches of realistic metrics (a port counter sample per switch port), built on the fly."""
    from flcollector import Metric

    base = time.time_ns()
    for start in range(0, count, BATCH):
        yield [
            Metric(
                name="sdn_port",
                fields={"rx_bps": float(i % 977) * 1.5, "tx_bps": float(i % 331), "rx_drops_per_s": 0.0},
                time_ns=base + i,
                tags={"switch": f"s{i % 8}", "port": str(i % 24)},
                source="sdn_controller",
                experiment="bench",
                round=i // 100_000,
            )
            for i in range(start, min(start + BATCH, count))
        ]


def run_floor(count: int, folder: Path) -> None:
    """The bare loop: orjson lines into a buffered file, SQLite executemany per batch, one transaction each."""
    import orjson
    from flcollector import record_to_dict

    db = sqlite3.connect(folder / "floor.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE metrics (time_ns INTEGER, name TEXT, source TEXT, experiment TEXT, round INTEGER,"
               " tags TEXT, fields TEXT)")
    with open(folder / "floor.jsonl", "ab") as out:
        for batch in make_batches(count):
            rows = []
            for m in batch:
                out.write(orjson.dumps(record_to_dict(m), option=orjson.OPT_APPEND_NEWLINE))
                rows.append((m.time_ns, m.name, m.source, m.experiment, m.round,
                             orjson.dumps(m.tags).decode(), orjson.dumps(m.fields).decode()))
            with db:
                db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


def run_pipeline(count: int, folder: Path) -> None:
    """The real thing: an agent with sqlite + jsonl + cache; records enter through ``agent.send``."""
    import trio
    from flcollector.agent import run_agent
    from flcollector.config import load_config

    config_file = folder / "bench.toml"
    config_file.write_text(
        f'[agent]\ndata_dir = "{folder}"\nself_metrics_interval = "0s"\nflush_grace = "600s"\n'
        '[[sinks.sqlite]]\nbatch_size = 5000\n[[sinks.jsonl]]\nbatch_size = 5000\n[[sinks.cache]]\n'
    )
    config = load_config(config_file, env={})

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            agent = await nursery.start(run_agent, config)
            for batch in make_batches(count):
                await agent.send(batch)
            agent.stop()  # returns after every sink drained and flushed
        dropped = agent.stats.dropped_total
        if dropped:
            raise SystemExit(f"pipeline dropped {dropped} records")

    trio.run(main)


def child(mode: str, count: int) -> None:
    """Run one mode and print its figures as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu0 = time.perf_counter(), time.process_time()
        (run_floor if mode == "floor" else run_pipeline)(count, Path(tmp))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "wall_s": wall, "cpu_s": cpu, "peak_rss_mib": rss_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=["floor", "pipeline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        child(args.mode, args.count)
        return
    results: dict[str, list[dict]] = {"floor": [], "pipeline": []}
    env = {**os.environ}
    for _ in range(args.runs):
        for mode in ("floor", "pipeline"):
            out = subprocess.run([sys.executable, __file__, "--mode", mode, "--count", str(args.count)],
                                 check=True, capture_output=True, text=True, env=env)
            results[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[mode])

    print(f"{args.count:,} metrics, {args.runs} runs each, medians")
    print(f"{'mode':<10}{'wall s':>9}{'metrics/s':>12}{'cpu s':>8}{'peak RSS MiB':>14}")
    for mode in ("floor", "pipeline"):
        wall = med(mode, "wall_s")
        print(f"{mode:<10}{wall:>9.2f}{args.count / wall:>12,.0f}{med(mode, 'cpu_s'):>8.2f}"
              f"{med(mode, 'peak_rss_mib'):>14.1f}")
    ratios = [p["wall_s"] / f["wall_s"] for p, f in zip(results["pipeline"], results["floor"], strict=True)]
    print(f"pipeline time / floor time: median {statistics.median(ratios):.2f}x "
          f"(runs: {', '.join(f'{r:.2f}' for r in ratios)}); target <= 2x, >= 100,000 metrics/s, <= 150 MiB")


if __name__ == "__main__":
    main()
