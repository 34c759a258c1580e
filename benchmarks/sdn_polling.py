"""One ``sdn`` poll against a controller with N switches: FLOPY-NET's one ``/stats/flows`` request versus stock Ryu's
one flow request per switch, each against the floor of the same requests without the monitor.

Sources: two emulated controllers (``SdnControllerEmulator``, flavours ``ryu`` and ``ofctl``) with the same chain
of N switches, the same hosts and the same traffic, each in its own process (so their CPU is not ours), each taking
``--delay`` per per-switch request (a switch's round trip). Collector side: the real ``sdn`` monitor (topology,
port rates, flow snapshot, traffic classes and FL peers), polled ``--cycles`` times after a cold poll; the floor is
the same requests in the same order and concurrency with a bare ``httpx.AsyncClient``, bodies read, nothing parsed.

Reported per flavour: requests per poll, median wall and CPU time of a poll, the ratio of the wall time to the
floor's; FLOPY-NET's once more with the traffic accounting switched off (the poll as it cost before it); then the
ratios of FLOPY-NET's poll to stock Ryu's (one bulk flow request against one per switch) and of the poll with
accounting to the one without. The wall time includes the emulator rendering the flow table (one process); the CPU
time is the collector's alone. Run:
``.venv/bin/python benchmarks/sdn_polling.py [--switches 20] [--cycles 9] [--delay 0.005]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
import trio


async def serve(flavour: str, switches: int, delay: float) -> None:
    """Serve one emulated controller after some traffic; print its URL; serve until killed."""
    from flcollector.emulators.sdn_controller import SdnControllerEmulator

    emulator = SdnControllerEmulator(flavour, switches=switches)  # type: ignore[arg-type]
    emulator.stats_delay = delay
    for _ in range(3):
        emulator.advance_counters()
    async with trio.open_nursery() as nursery:
        print(await nursery.start(emulator.serve), flush=True)

        async def traffic() -> None:  # counters keep moving between polls, as on a live network
            while True:
                await trio.sleep(0.5)
                emulator.advance_counters()

        nursery.start_soon(traffic)


def build_monitor(url: str) -> Any:
    """The real sdn monitor, wired as the core does (as ``polling.py`` wires its monitors)."""
    from flcollector.plugins.sdn.monitor import SdnMonitor
    from polling import build_runners

    return build_runners(SdnMonitor, [int(url.rsplit(":", 1)[1])])[0].monitor


async def floor_poll(client: httpx.AsyncClient, phases: list[list[str]], limit: int) -> None:
    """The same requests, phase after phase, at most ``limit`` at a time; bodies read, nothing parsed."""
    limiter = trio.CapacityLimiter(limit)

    async def get(path: str) -> None:
        async with limiter:
            await client.get(path)

    for phase in phases:
        async with trio.open_nursery() as nursery:
            for path in phase:
                nursery.start_soon(get, path)


async def bench(flavour: str, url: str, cycles: int, accounting: bool = True) -> dict[str, Any]:
    """A cold poll, then ``cycles`` timed polls of the monitor and of the floor (interleaved). Without
    ``accounting`` the monitor skips the traffic classes and FL peers (what polling cost before them)."""
    paths: list[str] = []
    monitor = build_monitor(url)
    if not accounting:
        monitor._traffic = lambda *_: ([], lambda: None)
    await monitor.open()
    assert monitor.client is not None
    monitor.client.event_hooks["request"] = [lambda request: _record(paths, request)]
    await monitor.collect()  # cold: connections, API detection, baselines
    paths.clear()
    await monitor.collect()
    phases = [[p for p in paths if p in ("/v1.0/topology/switches", "/stats/flows")]]
    phases.append([p for p in paths if p not in phases[0]])
    per_poll = len(paths)
    walls, cpus, floors = [], [], []
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        await floor_poll(client, phases, monitor.options.max_concurrent_requests)
        for _ in range(cycles):
            wall, cpu = time.perf_counter(), time.process_time()
            records = await monitor.collect()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            wall = time.perf_counter()
            await floor_poll(client, phases, monitor.options.max_concurrent_requests)
            floors.append(time.perf_counter() - wall)
    await monitor.close()
    wall, floor = statistics.median(walls), statistics.median(floors)
    return {
        "flavour": flavour,
        "traffic_accounting": accounting,
        "api": monitor.source.api,
        "requests_per_poll": per_poll,
        "records_per_poll": len(list(records)),
        "wall_s": round(wall, 4),
        "cpu_s": round(statistics.median(cpus), 4),
        "floor_wall_s": round(floor, 4),
        "ratio_to_floor": round(wall / floor, 2),
    }


async def _record(paths: list[str], request: httpx.Request) -> None:
    paths.append(request.url.path)


def main() -> None:
    """Parse arguments, start both controllers, benchmark each, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=9)
    parser.add_argument("--delay", type=float, default=0.005, help="seconds each per-switch request takes")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        logging.getLogger("hypercorn").setLevel(logging.WARNING)
        trio.run(serve, args.serve, args.switches, args.delay)
        return
    figures = {}
    for flavour in ("ryu", "ofctl"):
        command = [sys.executable, __file__, "--serve", flavour, "--switches", str(args.switches)]
        server = subprocess.Popen([*command, "--delay", str(args.delay)], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            figures[flavour] = trio.run(bench, flavour, url, args.cycles)
            print(json.dumps(figures[flavour]), flush=True)
            if flavour == "ryu":
                figures["ryu-bare"] = trio.run(bench, flavour, url, args.cycles, False)
                print(json.dumps(figures["ryu-bare"]), flush=True)
        finally:
            server.kill()
            server.wait()
    ryu, stock, bare = figures["ryu"], figures["ofctl"], figures["ryu-bare"]
    summary = {
        "switches": args.switches,
        "flopynet_over_stock_wall": round(ryu["wall_s"] / stock["wall_s"], 2),
        "flopynet_over_stock_cpu": round(ryu["cpu_s"] / stock["cpu_s"], 2),
        "accounting_cpu_ratio": round(ryu["cpu_s"] / bare["cpu_s"], 2),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
