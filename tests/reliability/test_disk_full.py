"""Disk full and unwritable storage: visible to clients (503 + Retry-After), to /health (unhealthy), in events, and
at start-up (exit 2 naming the path).

The full disk is real: a tmpfs of a few MiB mounted for the test (root only; CI is root and sets
``FLCOLLECTOR_REQUIRE_TMPFS=1``, which turns a skip into a failure), so SQLite gets SQLITE_FULL and the archive
ENOSPC from the kernel, exactly as on a full disk. The same paths are also tested without root with SQLite's
``max_page_count`` (tests/plugins/server/test_server_ingest_ack.py).

Issue 13: with the disk full, ``/write`` answered 204 for 66k points that were dropped and health stayed
"degraded"; a read-only data dir did not stop start-up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
import trio
from agent_process import AgentProcess
from flcollector import Event, Metric
from flcollector.cli import main
from flcollector.plugins.jsonl import read_archive

CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"
[[sinks.{durable}]]
retries = 0
[[sinks.cache]]
[server]
port = 0
retry_after = "0.2s"
"""


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """Mount a tmpfs with ``options`` (``size=4m``, ``ro``) on ``path`` for the block; skip without root."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True,
                            text=True) if os.geteuid() == 0 else None
    if result is None or result.returncode != 0:
        reason = "needs root to mount a size-limited tmpfs" if result is None else result.stderr.strip()
        if os.environ.get("FLCOLLECTOR_REQUIRE_TMPFS"):
            pytest.fail(f"FLCOLLECTOR_REQUIRE_TMPFS is set but the tmpfs cannot be mounted: {reason}")
        pytest.skip(f"a real full disk {reason}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _lines(first: int, n: int = 200) -> bytes:
    now = time.time_ns()  # recent: the store's retention (14 days by default) keeps them
    pad = "x" * 40
    return "".join(f'fill,host=h{i % 5} seq={i}i,pad="{pad}" {now + i}\n' for i in range(first, first + n)).encode()


@pytest.mark.parametrize("durable", ["sqlite", "jsonl"])
async def test_a_full_disk_is_a_503_unhealthy_and_recorded_and_nothing_acknowledged_is_lost(
    tmp_path: Path, durable: str
) -> None:
    with tmpfs(tmp_path / "disk", "size=4m") as disk:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (1024 * 1024))  # freed later: the disk "gets room again"
        data = disk / "data"
        agent = AgentProcess(tmp_path / "agent", CONFIG.format(data=data, durable=durable))
        acknowledged: list[int] = []
        try:
            with trio.fail_after(120):
                url = await agent.start()
                async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                    sequence = 0
                    while True:  # fill the disk through the API
                        answer = await http.post("/write", content=_lines(sequence))
                        if answer.status_code != 204:
                            break
                        acknowledged.extend(range(sequence, sequence + 200))
                        sequence += 200
                    full = answer
                    refused = await http.post("/write", content=_lines(10**6))
                    health = await http.get("/health")
                    filler.unlink()  # room again
                    while (again := await http.post("/write", content=_lines(sequence))).status_code != 204:  # noqa: ASYNC110
                        await trio.sleep(0.1)  # until retry_after passed and a write probed the disk
                    acknowledged.extend(range(sequence, sequence + 200))
                agent.signal(signal.SIGTERM)
                assert await agent.wait() == 0
        finally:
            with trio.CancelScope(shield=True):
                await agent.kill_now()
        stored, events = _stored(data, durable)
    assert full.status_code == 503 and full.headers["retry-after"] == "1", full.text
    assert "full" in full.json()["error"]["message"] or "space" in full.json()["error"]["message"]
    assert refused.status_code == 503 and "retry-after" in refused.headers
    body = health.json()
    assert health.status_code == 503 and body["status"] == "unhealthy"  # the cache alone keeps nothing
    assert body["agent_components"][f"sink:{durable}"]["status"] == "error"
    assert again.status_code == 204
    recovered = [e for e in events if e.type == "STORAGE_RECOVERED"]
    assert recovered and all(e.details["sink"] == durable and e.details["dropped"] > 0 for e in recovered)
    assert any("full" in e.details["error"] or "space" in e.details["error"] for e in recovered)
    assert set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} acknowledged points lost"


def _stored(data: Path, durable: str) -> tuple[set[int], list[Event]]:
    """The ``seq`` of every stored ``fill`` point and every stored event, from the store or the archive."""
    if durable == "jsonl":
        metrics = read_archive(data / "jsonl", "metrics")
        seqs = {int(m.fields["seq"]) for m in metrics if isinstance(m, Metric) and m.name == "fill"}
        return seqs, [e for e in read_archive(data / "jsonl", "events") if isinstance(e, Event)]
    return _stored_seqs(data / "flcollector.db"), _stored_events(data / "flcollector.db")


def _stored_events(db: Path) -> list[Event]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT type, details FROM events").fetchall()
    return [Event(type_, details=orjson.loads(details)) for type_, details in rows]


def _stored_seqs(db: Path) -> set[int]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT json_extract(fields, '$.seq') FROM metrics JOIN series ON series.id = metrics.series_id "
            "WHERE series.name = 'fill'"
        ).fetchall()
    return {int(seq) for (seq,) in rows}


def test_a_read_only_data_dir_stops_the_start_with_exit_2_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "ro", "size=1m,ro") as readonly:
        config = tmp_path / "c.toml"
        config.write_text(f'[agent]\ndata_dir = "{readonly}"\n[[sinks.sqlite]]\n[[sinks.jsonl]]\n[server]\nport = 0\n')
        code = main(["run", "-c", str(config)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"'{readonly / 'flcollector.db'}'" in err and "cannot start" in err and "Traceback" not in err


@pytest.mark.parametrize("sink", ["sqlite", "jsonl"])
def test_a_store_or_archive_that_cannot_be_created_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sink: str
) -> None:
    """Without root: the store's or the archive's path lies under a regular file, so it can never be created."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    option = 'path = "{0}/store.db"' if sink == "sqlite" else 'directory = "{0}/archive"'
    config = tmp_path / "c.toml"
    config.write_text(f'[agent]\ndata_dir = "{tmp_path / "data"}"\n[[sinks.{sink}]]\n{option.format(blocker)}\n'
                      "[[sinks.cache]]\n[server]\nport = 0\n")
    assert main(["run", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"sink '{sink}' cannot start" in err and str(blocker) in err and "Traceback" not in err
