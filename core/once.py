"""``flcollector once``: one collection from every monitor, records printed as JSON lines, no sinks.

Like ``telegraf --test``: the quickest way to see what a config collects. Failures show up as the same
SOURCE_UNREACHABLE / MALFORMED_RESPONSE / PLUGIN_ERROR events the running agent would store.
"""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from typing import IO

import orjson
import trio

from .agent import Agent
from .config import Config
from .records import Record, record_to_dict
from .scheduler import MonitorRunner


async def collect_once(config: Config) -> list[Record]:
    """Open every enabled monitor, collect from all of them concurrently, and return the stamped records."""
    agent = Agent(config)
    results: list[Record] = []

    async def keep(batch: list[Record]) -> None:
        results.extend(batch)

    async with AsyncExitStack() as stack:
        await agent.open_components(stack, "monitor")  # the same building rules as `run`
        runners = [
            MonitorRunner(m, cfg.common, config.agent, keep)  # type: ignore[arg-type]
            for cfg, m in agent.configured("monitor")
        ]

        async def one(runner: MonitorRunner) -> None:
            records, _failure = await runner.collect_once()
            results.extend(records)

        async with trio.open_nursery() as nursery:
            for runner in runners:
                nursery.start_soon(one, runner)
    return agent.context.stamp(results)


def print_records(records: list[Record], out: IO[bytes] | None = None) -> None:
    """Write records as JSON lines (orjson) to ``out`` (stdout by default)."""
    stream = out or sys.stdout.buffer
    for record in records:
        stream.write(orjson.dumps(record_to_dict(record), option=orjson.OPT_APPEND_NEWLINE))
    stream.flush()
