"""Micro-benchmark of the InfluxDB line-protocol parser: points/s and the ratio to a bare split floor.

Run: ``.venv/bin/python benchmarks/lineprotocol.py [--points 5000] [--rounds 40]``. The floor is a loop that only
splits the same body into lines and sections (``bytes.split(b"\\n")`` + ``split(b" ")``), so the ratio shows how
much the real parsing costs on top of touching every line once.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from flcollector.plugins.server.lineprotocol import parse


def make_body(points: int, series: int = 50) -> bytes:
    """A typical batch: ``series`` tag sets, a float, an integer and a boolean field, nanosecond timestamps."""
    base = 1_700_000_000_000_000_000
    lines = [
        f"cpu,host=node{i % series},region=eu,experiment=exp1 usage={i * 0.5},count={i}i,ok=t {base + i}"
        for i in range(points)
    ]
    return "\n".join(lines).encode()


def floor(body: bytes) -> int:
    """Touch every line once: the cheapest conceivable pass over the body."""
    count = 0
    for line in body.split(b"\n"):
        if len(line.split(b" ")) >= 2:
            count += 1
    return count


def full(body: bytes) -> int:
    """What the ``/write`` route does: decode, then parse."""
    return len(parse(body.decode("utf-8"), "ns"))


def rate(func: Callable[[bytes], int], body: bytes, rounds: int) -> float:
    """Median points/s over ``rounds`` runs."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        points = func(body)
        rates.append(points / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    body = make_body(args.points)
    floor_rate = rate(floor, body, args.rounds)
    parse_rate = rate(full, body, args.rounds)
    print(f"floor  (split only): {floor_rate:>12,.0f} points/s")
    print(f"parser (decode+parse): {parse_rate:>10,.0f} points/s ({parse_rate / floor_rate:.2f}x of floor)")


if __name__ == "__main__":
    main()
