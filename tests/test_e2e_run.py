"""`flcollector run` as a real process: SIGTERM stops it cleanly and nothing is lost or duplicated.

Every record the monitors produced must be in both the JSONL archive and the SQLite store: the same count per
metric name, and the same event ids.
"""

from __future__ import annotations

import collections
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flcollector import Event, Metric
from flcollector.plugins.jsonl.reader import read_archive


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stored_metric_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM metrics").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


@pytest.mark.slow
def test_run_stops_on_sigterm_with_every_record_in_both_stores(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "e2e.toml"
    config.write_text(f"""
[agent]
data_dir = "{data}"
experiment = "e2e"
self_metrics_interval = "300ms"

[[monitors.system]]
interval = "100ms"

[[monitors.fl]]
url = "http://127.0.0.1:{_closed_port()}"
interval = "100ms"

[[sinks.sqlite]]
flush_interval = "200ms"
[[sinks.jsonl]]
flush_interval = "200ms"
[[sinks.cache]]

[server]
host = "127.0.0.1"
port = 0
""")
    process = subprocess.Popen(
        [sys.executable, "-m", "flcollector", "run", "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        # the store is read by another process while the agent writes it: poll until enough has been written
        while _stored_metric_count(data / "flcollector.db") < 60:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the agent stored too little within 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopped; 0 records dropped in total" in stderr

    archived = list(read_archive(data / "jsonl", "metrics")) + list(read_archive(data / "jsonl", "events"))
    with sqlite3.connect(data / "flcollector.db") as conn:
        stored_names = collections.Counter(
            dict(conn.execute("SELECT s.name, count(*) FROM metrics m JOIN series s ON s.id = m.series_id GROUP BY 1"))
        )
        stored_event_ids = sorted(row[0] for row in conn.execute("SELECT id FROM events"))
    archived_names = collections.Counter(r.name for r in archived if isinstance(r, Metric))
    archived_event_ids = sorted(r.id for r in archived if isinstance(r, Event))
    assert archived_names == stored_names
    assert archived_event_ids == stored_event_ids
    assert archived_names["system_cpu"] >= 5 and archived_names["flcollector_monitor"] >= 2
    events = [r for r in archived if isinstance(r, Event)]
    assert [e.type for e in events].count("SOURCE_UNREACHABLE") == 1  # one per outage, not one per cycle
    assert all(r.experiment == "e2e" for r in archived)
