"""The agent as a user runs it: ``flcollector run -c FILE`` in its own process, killed or stopped by signals.

The reliability tests (crash under load, disk full, SIGTERM during ingest) need a real process: ``kill -9`` cannot be
simulated in-process, and a full disk must fail the real writes of the real store.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import trio

_SERVING = re.compile(r"serving on (http://\S+)")


def store_config(data: Path, *, archive: bool = True, server: str = "") -> str:
    """The config these processes run: the sqlite store (and the JSONL archive), the cache, the server on a free
    port with the ``[server]`` lines ``server``; no self-metrics and no retention, so every record stays countable."""
    archive_table = "[[sinks.jsonl]]\n" if archive else ""
    return (
        f'[agent]\ndata_dir = "{data}"\nself_metrics_interval = "0s"\n'
        f'[[sinks.sqlite]]\nretention = "0s"\n{archive_table}[[sinks.cache]]\n'
        f"[server]\nport = 0\n{server}\n"
    )


class AgentProcess:
    """One ``flcollector run`` process; its log (stderr) goes to ``<folder>/agent.log``."""

    def __init__(self, folder: Path, config: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.config = folder / "collector.toml"
        self.config.write_text(config)
        self.log_path = folder / "agent.log"
        self.process: trio.Process | None = None
        self.url = ""

    async def start(
        self, timeout: float = 30.0, *, runner: Sequence[str] = (), env: Mapping[str, str] | None = None
    ) -> str:
        """Start the process and return the API's base URL once it serves (or fail with its log). ``runner``
        replaces ``-m flcollector run -c`` (e.g. a script that runs the agent under tracemalloc; the config's path
        is its last argument); ``env`` adds variables (e.g. ``LD_PRELOAD``)."""
        argv = [sys.executable, *(runner or ["-m", "flcollector", "run", "-c"]), str(self.config)]
        log = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230 - handed to the child, closed right after
        try:
            self.process = await trio.lowlevel.open_process(
                argv, stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
            )
        finally:
            log.close()
        with trio.move_on_after(timeout):
            while True:
                match = _SERVING.search(self.log())
                if match:
                    self.url = match.group(1)
                    return self.url
                if self.process.poll() is not None:
                    raise AssertionError(f"the agent exited with {self.process.returncode}:\n{self.log()}")
                await trio.sleep(0.05)  # another process's log: there is no event to await
        raise AssertionError(f"the agent did not serve within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        """The agent's log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the agent (SIGKILL: a crash; SIGTERM: a stop)."""
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float = 60.0) -> int:
        """Wait for the process to end; return its exit code."""
        assert self.process is not None
        with trio.fail_after(timeout):
            return await self.process.wait()

    async def kill_now(self) -> None:
        """Make sure the process is gone (a test's cleanup)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            with trio.move_on_after(10):
                await self.process.wait()


def stored_values(db: Path, name: str, field: str) -> list[float]:
    """Every value of ``field`` of metric ``name`` in the sqlite store at ``db`` (read after the agent ended)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT json_extract(fields, ?) FROM metrics JOIN series ON series.id = metrics.series_id "
            "WHERE series.name = ?",
            (f"$.{field}", name),
        ).fetchall()
    return [row[0] for row in rows]
