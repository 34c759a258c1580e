"""`entrypoint.sh run` execs the agent: SIGTERM (what `docker stop` sends) reaches it and every sink flushes.

The agent runs a loopback-only config: the system monitor, a JSONL sink that would not write before shutdown on its
own, and the API on 127.0.0.1 port 0.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from container_helpers import ENTRYPOINT, base_env, wait_for

CONFIG = """
[agent]
interval = "0.5s"
timeout = "5s"
data_dir = "{data_dir}"
self_metrics_interval = "0s"

[[monitors.system]]

[[sinks.jsonl]]
flush_interval = "1h"      # nothing reaches the file before shutdown: only the shutdown flush can write it
batch_size = 100000

[server]
host = "127.0.0.1"
port = 0
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to check the exec")
def test_sigterm_reaches_the_agent_and_the_sinks_flush(tmp_path: Path) -> None:
    config = tmp_path / "loopback.toml"
    config.write_text(CONFIG.format(data_dir=tmp_path / "data"))
    log = tmp_path / "agent.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            ["bash", str(ENTRYPOINT), "run"],
            env=base_env(FLCOLLECTOR_CONFIG=str(config)),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:

        def server_url() -> str | None:
            if process.poll() is not None:
                raise AssertionError(f"the agent exited early ({process.returncode}):\n{log.read_text()}")
            match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", log.read_text())
            return match[1] if match else None

        url = wait_for(server_url, 20, "the API to listen")
        # exec, not a child: the process started as bash is now the agent itself
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert any(part.endswith(b"flcollector") for part in cmdline) and b"run" in cmdline

        def buffered() -> int:
            sink = httpx.get(f"{url}/health", timeout=5).json()["agent_components"]["sink:jsonl"]
            return int(sink["buffer_fill"]) if sink["buffer_fill"] >= 5 else 0

        waiting = wait_for(buffered, 20, "records buffered in the JSONL sink")
        archive = tmp_path / "data" / "jsonl"
        assert not list(archive.glob("metrics-*.jsonl")), "the sink wrote before shutdown: the test proves nothing"

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [line for path in archive.glob("metrics-*.jsonl") for line in path.read_text().splitlines()]
    assert len(lines) >= waiting
    names = {json.loads(line)["name"] for line in lines}
    assert {"system_cpu", "system_memory"} <= names
    assert "received SIGTERM" in log.read_text()
