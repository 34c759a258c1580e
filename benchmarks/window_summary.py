"""A long window of the spec's summary routes: the store's SQL summary against reading every row, same run.

``/api/v1/network/metrics`` and ``/api/v1/fl/metrics`` used to read a window oldest-first under a 10,000-row cap
(wrong once the window is longer). They now ask the store for per-series summaries (``summarize_metrics``: one SQL
pass). The floor is what answering correctly without it costs: read every row of the window
(``query_metrics``) and fold it in Python (``flcollector.summary.fold``). Rows: a day at a 5 s poll of the
``network``, ``probe_tcp`` (3 targets) and ``sdn_traffic`` metrics, and 30 clients' ``fl_client`` reports
(``--days`` scales it). Medians of ``--runs``.

Run: ``.venv/bin/python benchmarks/window_summary.py [--days 1] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import trio
from flcollector import Metric, MetricQuery, RunContext, Runtime
from flcollector.options import build_options
from flcollector.plugins.server.routes.fl import CLIENT_FIELDS
from flcollector.plugins.server.routes.network import WINDOW_FIELDS, WINDOW_METRICS
from flcollector.plugins.sqlite import SqliteStore
from flcollector.stats import StatsRegistry
from flcollector.summary import fold

STEP_NS = 5 * 10**9


def records(days: float, now: int) -> list[Metric]:
    """A day (by default) of the monitors' window metrics and the clients' reports, oldest first."""
    polls = int(days * 86400 * 10**9 // STEP_NS)
    out: list[Metric] = []
    for i in range(polls):
        at = now - (polls - i) * STEP_NS
        out.append(Metric("network", {"bandwidth_total_mbps": float(i % 500), "latency_avg_ms": 5.0, "flows_total": 40,
                                      "packet_loss_percent": 0.0, "sdn_status": "connected"}, at))
        out += [Metric("probe_tcp", {"rtt_avg_ms": 10.0 + t, "loss_percent": 0.0}, at, {"target": f"t{t}"})
                for t in range(3)]
        out.append(Metric("sdn_traffic", {"fl_bytes": 9000, "control_bytes": 500, "background_bytes": 500,
                                          "total_bytes": 10000}, at))
        if i % 12 == 0:  # a round a minute, every client reporting
            out += [Metric("fl_client", {"accuracy": 0.8, "loss": 0.3, "training_time_s": 12.0, "samples": 600},
                           at, {"client": f"c{c}"}, round=i // 12) for c in range(30)]
    return out


async def main(days: float, runs: int) -> None:
    now = time.time_ns()
    with tempfile.TemporaryDirectory() as tmp:
        stats = StatsRegistry().register("sink", "sqlite", "sqlite")
        log = logging.getLogger("flcollector.sink.sqlite")
        runtime = Runtime(instance="sqlite", plugin="sqlite", log=log, stats=stats, context=RunContext(),
                          data_dir=Path(tmp))
        store = SqliteStore(build_options(SqliteStore.Options, {"retention": "0s"}), runtime)
        async with store:
            rows = records(days, now)
            for start in range(0, len(rows), 20_000):
                await store.write(rows[start : start + 20_000])
            window = MetricQuery(start_ns=now - int(days * 86400 * 10**9) - STEP_NS)
            cases = {
                "network": (list(WINDOW_METRICS), list(WINDOW_FIELDS)),
                "fl_client": (["fl_client"], list(CLIENT_FIELDS)),
            }
            for label, (names, fields) in cases.items():
                query = MetricQuery(names=names, start_ns=window.start_ns, limit=10**9, order="asc")
                sql, floor = [], []
                for _ in range(runs):
                    started = time.perf_counter()
                    summaries = await store.summarize_metrics(query, fields)
                    sql.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    folded = fold(await store.query_metrics(query), fields)
                    floor.append(time.perf_counter() - started)
                assert [s.samples for s in summaries] == [s.samples for s in folded]
                count = sum(s.samples for s in summaries)
                a, b = statistics.median(sql), statistics.median(floor)
                print(f"{label:10} rows {count:>9,}  sql summary {a * 1e3:8.1f} ms  read+fold {b * 1e3:8.1f} ms  "
                      f"ratio {a / b:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    trio.run(main, arguments.days, arguments.runs)
