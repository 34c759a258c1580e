"""What one ``GET /api/v1/fl/metrics`` costs as an experiment grows: time and transient Python memory per call.

The route answers every stored round of the experiment (up to the server's ``max_limit``) as per-round arrays, and
the dashboard and notebooks call it all through a run: a call that held every round's metric at once grew its
transient memory with the experiment (1,800 rounds after an hour at a round per 2 s; see
BENCHMARKS.md, "Fifth session"). The agent (``benchmarks/api.py``'s config) is given ``N`` ``fl_round`` metrics
with 27 fields each, about as many as the FL monitor writes, for each ``N`` of ``--sizes``; the route is then called
``--calls`` times on the server's ASGI app, in-process, then as many times under ``tracemalloc``, each call after
dropping the kept answer (as after every new round: the answer is built), then ``--calls`` times more as the polls
between two rounds (``kept_``: the answer kept under the store's version). Per ``N`` it prints the median µs per
call (untraced), the median peak of Python memory a call allocates on top of what it started with (KiB), and that
peak over the peak of one bare ASGI call made the same way in the same run (the floor).

Run: ``.venv/bin/python benchmarks/round_arrays.py [--sizes 500,2000,8000] [--calls 15]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).parent))
from route_cost import bare, call, running_agent

#: A finished round's fields: about what ``plugins/fl/convert.py`` makes of a round row (phases, timing, clients).
ROUND_FIELDS = {
    "accuracy": 0.81,
    "loss": 0.42,
    "model_size_mb": 1.7,
    "training_duration_s": 11.5,
    "total_duration_s": 14.2,
    "aggregation_duration_s": 0.3,
    "evaluation_duration_s": 1.1,
    "config_duration_s": 0.01,
    "fit_phase_s": 11.6,
    "aggregation_phase_s": 0.4,
    "clients_selected": 5,
    "clients_succeeded": 5,
    "clients_failed": 0,
    "evaluations_succeeded": 5,
    "evaluations_failed": 0,
    "client_training_time_avg_s": 9.1,
    "client_training_time_min_s": 7.2,
    "client_training_time_max_s": 11.0,
    "client_evaluation_time_avg_s": 0.8,
    "client_evaluation_time_min_s": 0.6,
    "client_evaluation_time_max_s": 1.0,
    "status": "complete",
    "round_start": 1.7e9,
    "round_end": 1.7e9 + 14,
    "policy_checks": 3,
    "policy_denied": 0,
    "data_samples": 50_000,
}


async def measure(app: Any, path: str, calls: int, before: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """Median µs of ``calls`` calls (without tracemalloc, which slows Python code several times), then the median
    peak KiB a call allocates above the memory at its start (under tracemalloc); ``before()`` runs before each
    call, untimed."""
    assert await call(app, path) == 200
    times, peaks = [], []
    for _ in range(calls):
        before()
        started = time.perf_counter()
        await call(app, path)
        times.append((time.perf_counter() - started) * 1e6)
    tracemalloc.start()
    for _ in range(calls):
        before()
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        await call(app, path)
        peaks.append((tracemalloc.get_traced_memory()[1] - base) / 1024)
    tracemalloc.stop()
    return statistics.median(times), statistics.median(peaks)


async def one_size(rounds: int, calls: int) -> dict[str, Any]:
    """Fill an agent with ``rounds`` rounds and measure the route and the floor."""
    from flcollector import Metric, now_ns

    async with running_agent() as agent:
        start = now_ns() - rounds * 2 * 10**9  # a round every 2 s, the newest now
        for first in range(1, rounds + 1, 5000):
            numbers = range(first, min(first + 5000, rounds + 1))
            fields = ({**ROUND_FIELDS, "accuracy": r / rounds} for r in numbers)
            await agent.send(
                [
                    Metric("fl_round", f, start + r * 2 * 10**9, source="fl_server", round=r)
                    for r, f in zip(numbers, fields, strict=True)
                ]
            )
        sqlite = agent.stats.get("sink", "sqlite")
        assert sqlite is not None
        while sqlite.counters["records_out"] < rounds:  # noqa: ASYNC110 - a poll of a counter
            await trio.sleep(0.1)
        app = agent.find("listener", "server").app
        floor_us, floor_kib = await measure(bare, "/", calls)
        # Built: as after every new round (the kept answer dropped first). Kept: the polls between two rounds.
        us, kib = await measure(app, "/api/v1/fl/metrics", calls, app.state.server.fl_answers.clear)
        kept_us, kept_kib = await measure(app, "/api/v1/fl/metrics", calls)
    return {
        "rounds": rounds,
        "us": round(us),
        "peak_kib": round(kib, 1),
        "kept_us": round(kept_us),
        "kept_peak_kib": round(kept_kib, 1),
        "floor_us": round(floor_us, 1),
        "floor_peak_kib": round(floor_kib, 2),
        "peak_over_floor": round(kib / floor_kib, 1) if floor_kib else None,
        "kept_peak_over_floor": round(kept_kib / floor_kib, 1) if floor_kib else None,
    }


async def main(args: argparse.Namespace) -> None:
    """Measure each size in its own agent."""
    for rounds in (int(n) for n in args.sizes.split(",")):
        print(json.dumps(await one_size(rounds, args.calls)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,8000", help="stored rounds, comma-separated")
    parser.add_argument("--calls", type=int, default=15)
    trio.run(main, parser.parse_args())
