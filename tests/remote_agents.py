"""Helpers of the remote-sink tests: run a real agent from TOML in the test's Trio run, and wait on counters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import trio
from flcollector.agent import Agent
from flcollector.config import load_config

HEADER = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"
experiment = "exp_remote"
flush_grace = "{grace}"
"""


def write_config(folder: Path, toml: str, grace: str = "20s") -> Path:
    """Write ``collector.toml`` in ``folder`` (data under ``folder/data``) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "collector.toml"
    path.write_text(HEADER.format(data=folder / "data", grace=grace) + toml)
    return path


@asynccontextmanager
async def running_agent(folder: Path, toml: str, grace: str = "20s") -> AsyncIterator[Agent]:
    """Run an agent with ``[agent]`` defaults plus ``toml``; on exit stop it and wait until its sinks flushed.

    ``grace`` is the flush grace: short where the remote is meant to stay unavailable.
    """
    config = load_config(write_config(folder, toml, grace), env={})
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(Agent(config).run)
        try:
            yield agent
        finally:
            agent.stop()


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` (state of a counter or of another process: there is no event to await) until true."""
    with trio.move_on_after(timeout):
        while not condition():  # noqa: ASYNC110 - counters and other processes have no event to wait on
            await trio.sleep(0.02)
        return
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
