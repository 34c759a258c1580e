"""The round table over a long experiment: does a round cost the same at round 1,000 as at round 1?

An experiment of ``--rounds`` rounds (10 s each, polls every 0.5 s) with ``--per-round`` network metrics per round
(40 switch ports, 5 FL peers, the traffic classes and the FL server's rule, a probe and GNS3 links at every poll,
so 1,000 rounds are 1,000,000 network metrics) goes through the real ``rounds`` processor in one batch per poll,
with the FL server's events and rows as the fl monitor writes them. Reported: the processor's time per round (all
its batches) for the first and the last rounds, their ratio (the claim: within 2x, the processor never walks the
history), and the cost per metric against a floor measured in the same run (a bare loop that classifies each record:
``isinstance`` plus one dict lookup). Then, with ``--store``, the rows and every metric go into a real SQLite store
and the round table's query for the first and for the last round is timed (what ``/api/v1/fl/rounds`` asks).
Run: ``.venv/bin/python benchmarks/rounds_table.py [--rounds 1000] [--per-round 1000] [--store]``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import trio
from flcollector import Event, Metric, MetricQuery, Record, RunContext, Runtime
from flcollector.options import build_options
from flcollector.plugins.rounds.processor import RoundsProcessor
from flcollector.stats import StatsRegistry

T0 = 1_800_000_000 * 10**9
POLLS, PORTS, PEERS = 20, 40, 5  # per round; 50 network metrics per poll
EXP = "bench"


def runtime(name: str, kind: str) -> Runtime:
    return Runtime(name, name, logging.getLogger(f"bench.{name}"), StatsRegistry().register(kind, name, name),
                   RunContext(), Path(tempfile.gettempdir()))


def poll(n: int, p: int, at: int) -> list[Record]:
    """One poll of round ``n``: ports with growing counters, FL peers, traffic, a probe, two GNS3 links."""
    step = (n - 1) * POLLS + p + 1
    out: list[Record] = [Metric("sdn_port", {"rx_bytes": 1000 * step * (i + 1), "tx_bytes": 900 * step * (i + 1),
                                             "rx_pps": 10.0, "tx_pps": 9.0, "rx_bps": 8e3, "tx_bps": 7e3,
                                             "interval_s": 0.5}, at, {"switch": f"{i // 8:016x}", "port": str(i % 8)},
                                "sdn_controller") for i in range(PORTS)]
    out += [Metric("sdn_fl_peer", {"bytes_to_server": 1000, "bytes_from_server": 3000, "packets_to_server": 1,
                                   "packets_from_server": 2, "interval_s": 0.5}, at,
                   {"peer": f"192.168.100.{101 + c}"}, "sdn_controller") for c in range(PEERS)]
    out += [Metric("sdn_traffic", {"fl_bytes": 20_000, "control_bytes": 100, "background_bytes": 50,
                                   "interval_s": 0.5}, at, {}, "sdn_controller"),
            Metric("sdn_traffic_rule", {"bytes": 20_000, "packets": 14}, at, {"rule": "fl_server", "class": "fl"},
                   "sdn_controller"),
            Metric("probe_tcp", {"rtt_avg_ms": 1.0, "rtt_min_ms": 0.9, "loss_percent": 0.0}, at,
                   {"target": "192.168.100.10:8081", "label": "fl-server"}, "probe")]
    out += [Metric("gns3_link", {"rtt_added_ms": 0.0, "loss_roundtrip_pct": 0.0}, at,
                   {"node_a": a, "node_b": "openvswitch", "link_id": a}, "gns3") for a in ("fl-server", "collector")]
    out.append(Metric("fl_server", {"state": "active"}, at, {}, "fl_server", EXP, n))
    return out


def experiment(rounds: int) -> Iterator[tuple[int, list[Record]]]:
    """``(round, batch)`` per poll; each round's events and row come with its first poll / the next round's."""
    length = POLLS * 500_000_000
    for n in range(1, rounds + 1):
        start = T0 + (n - 1) * length
        for p in range(POLLS):
            batch = poll(n, p, start + (p + 1) * 500_000_000 - 1)
            if p == 0:
                batch.insert(0, Event("ROUND_STARTED", "s", start, "fl_server",
                                      details={"round": n, "round_start_time": start / 1e9}, experiment=EXP, round=n))
                if n > 1:
                    batch.insert(0, Metric("fl_round", {"accuracy": 0.9, "total_duration_s": length / 1e9},
                                           start, {}, "fl_server", EXP, n - 1))
            yield n, batch


def floor(batch: list[Record], kinds: dict[str, int]) -> int:
    """The least any processor does with a batch: classify each record."""
    found = 0
    for record in batch:
        if isinstance(record, Metric):
            found += kinds.get(record.name, 0)
    return found


def measure(rounds: int, store_rows: list[Record] | None) -> tuple[dict[int, float], float, float, int]:
    options = build_options(RoundsProcessor.Options, {"update_interval": "5s", "settle": "5s"})
    processor = RoundsProcessor(options, runtime("rounds", "processor"))
    per_round: dict[int, float] = {}
    kinds = dict.fromkeys(("sdn_port", "sdn_fl_peer", "sdn_traffic", "sdn_traffic_rule", "probe_tcp", "gns3_link"), 1)
    spent = floor_spent = 0.0
    metrics = 0
    for n, batch in experiment(rounds):
        began = time.perf_counter()
        out = processor.process(batch)
        took = time.perf_counter() - began
        began = time.perf_counter()
        metrics += floor(batch, kinds)
        floor_spent += time.perf_counter() - began
        per_round[n] = per_round.get(n, 0.0) + took
        spent += took
        if store_rows is not None:
            store_rows.extend(out)
    return per_round, spent, floor_spent, metrics


async def query_times(records: list[Record], rounds: int) -> tuple[float, float]:
    from flcollector.plugins.sqlite import SqliteStore

    directory = Path(tempfile.mkdtemp(prefix="rounds-bench-"))
    store = SqliteStore(build_options(SqliteStore.Options, {"path": str(directory / "b.db")}), runtime("s", "sink"))
    await store.open()
    for i in range(0, len(records), 20_000):
        await store.write(records[i : i + 20_000])

    async def one(n: int) -> float:
        times = []
        for _ in range(7):
            began = time.perf_counter()
            await store.query_metrics(MetricQuery(names=["fl_round_network", "fl_round_client"], experiment=EXP,
                                                  min_round=n, max_round=n, limit=10_000, order="asc"))
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    first, last = await one(1), await one(rounds - 1)
    await store.close()
    await trio.to_thread.run_sync(shutil.rmtree, directory)
    return first, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--store", action="store_true", help="also store everything and time the round query")
    args = parser.parse_args()
    kept: list[Record] | None = [] if args.store else None
    per_round, spent, floor_spent, metrics = measure(args.rounds, kept)
    edge = max(10, args.rounds // 50)
    first = statistics.median(per_round[n] for n in range(2, 2 + edge))  # round 1 has the warm-up
    last = statistics.median(per_round[n] for n in range(args.rounds - edge, args.rounds))
    print(f"{args.rounds} rounds, {metrics:,} network metrics through the rounds processor in {spent:.1f} s "
          f"({metrics / spent:,.0f} metrics/s; floor {metrics / floor_spent:,.0f}/s, "
          f"{spent / floor_spent:.1f}x the classify floor)")
    print(f"per round (median of {edge}): first rounds {first * 1e3:.1f} ms, last rounds {last * 1e3:.1f} ms, "
          f"last/first {last / first:.2f}")
    if kept is not None:
        stored = [r for r in kept if isinstance(r, Metric)]
        print(f"storing {len(stored):,} metrics (the network metrics, the rows, the summaries) in SQLite ...")
        q_first, q_last = trio.run(query_times, stored, args.rounds)
        print(f"round table query: round 1 {q_first * 1e3:.2f} ms, round {args.rounds - 1} {q_last * 1e3:.2f} ms, "
              f"last/first {q_last / q_first:.2f}")


if __name__ == "__main__":
    main()
