"""The compose stack without Docker: the emulator services and the collector service, as processes on loopback.

Each emulator runs with the compose service's own command (``python -m flcollector.emulators NAME``), the collector
with the image's entrypoint and config (``/app`` paths moved under tmp_path) and the compose service's environment,
with only the addresses changed from service names to the emulators' loopback URLs.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from container_helpers import CONTAINER, CONTAINER_TOML, ENTRYPOINT, base_env, wait_for


def started(process: subprocess.Popen[bytes], log: Path, pattern: str) -> str | None:
    """The first group of ``pattern`` in ``log``, or None; fails if the process has exited."""
    if process.poll() is not None:
        raise AssertionError(f"exited early ({process.returncode}):\n{log.read_text()}")
    match = re.search(pattern, log.read_text())
    return match[1] if match else None


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test; any still running at the end are killed."""
    running: list[subprocess.Popen[bytes]] = []
    yield running
    for process in running:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_collector_service_collects_from_the_emulator_services(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    services = yaml.safe_load((CONTAINER / "compose.yaml").read_text())["services"]
    urls: dict[str, str] = {}
    for name in ("fl-server", "policy-engine", "sdn-controller"):
        command = list(services[name]["command"])
        command[command.index("--host") + 1] = "127.0.0.1"
        command[command.index("--port") + 1] = "0"
        command[command.index("--tick") + 1] = "0.2"
        log = tmp_path / f"{name}.log"
        with log.open("w") as stderr:
            entry = [sys.executable if part == "python" else part for part in services[name]["entrypoint"]]
            processes.append(subprocess.Popen([*entry, *command], stderr=stderr, stdout=subprocess.DEVNULL))
        urls[name] = wait_for(
            lambda p=processes[-1], log=log, name=name: started(p, log, rf"serving {name} at (\S+)"), 20, name
        )

    config = tmp_path / "container.toml"
    config.write_text(CONTAINER_TOML.read_text().replace('"/app/', f'"{tmp_path}/app/'))
    env = dict(item.split("=", 1) for item in services["collector"]["environment"])
    env.update(
        FL_SERVER_HOST="127.0.0.1",
        FL_SERVER_PORT=urls["fl-server"].rsplit(":", 1)[1],
        POLICY_ENGINE_URL=urls["policy-engine"],
        SDN_CONTROLLER_URL=urls["sdn-controller"],
        COLLECTOR_HOST="127.0.0.1",
        COLLECTOR_PORT="0",
        COLLECTION_INTERVAL="0.5",
        FLCOLLECTOR_CONFIG=str(config),
    )
    log = tmp_path / "collector.log"
    with log.open("w") as stderr:
        collector = subprocess.Popen(["bash", str(ENTRYPOINT), "run"], env=base_env(**env), stderr=stderr)
    processes.append(collector)
    api = wait_for(lambda: started(collector, log, r"serving on (http://127\.0\.0\.1:\d+)"), 30, "the collector")

    def collected() -> dict[str, Any] | None:
        health = httpx.get(f"{api}/health", timeout=5).json()
        monitors = {k: v for k, v in health["agent_components"].items() if k.split(":")[0] == "monitor"}
        done = all(monitors[f"monitor:{m}"]["counters"]["records_out"] > 0 for m in ("fl", "policy", "sdn", "system"))
        return health if done else None

    health = wait_for(collected, 30, "records from every source")
    assert health["status"] == "healthy", json.dumps(health["agent_components"], indent=1)
    rounds = httpx.get(f"{api}/api/v1/metrics", params={"name": "fl_round"}, timeout=5)
    assert rounds.status_code == 200 and rounds.json(), rounds.text

    collector.send_signal(signal.SIGTERM)
    assert collector.wait(timeout=30) == 0, log.read_text()
    assert (tmp_path / "app" / "data" / "flcollector.db").exists()
    archive = [
        json.loads(line)
        for path in (tmp_path / "app" / "logs").glob("metrics-*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert {"fl_round", "system_memory"} <= {record["name"] for record in archive}
