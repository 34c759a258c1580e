"""The image's HEALTHCHECK (``entrypoint.sh --health``) asks the address the agent's config resolves to.

A real agent runs through the entrypoint on 127.0.0.1 port 0; the check is then run as the engine runs it, with the
port given the ways a deployment gives it (COLLECTOR_PORT, FLOPY-NET's API_PORT).
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from container_helpers import ENTRYPOINT, base_env, load_container_module, run_entrypoint, wait_for

CONFIG = """
[agent]
data_dir = "{data_dir}"
self_metrics_interval = "0s"

[[monitors.system]]

[server]
host = "{host}"
port = {port}
"""

healthcheck = load_container_module("healthcheck")


def write_config(tmp_path: Path, host: str = "127.0.0.1", port: int = 0) -> Path:
    """A loopback-only config: the system monitor and the API."""
    path = tmp_path / f"health-{port}.toml"
    path.write_text(CONFIG.format(data_dir=tmp_path / "data", host=host, port=port))
    return path


@pytest.fixture
def agent_port(tmp_path: Path) -> Iterator[int]:
    """Start the agent through the entrypoint on 127.0.0.1 port 0; yield the port it listens on; SIGTERM it."""
    log = tmp_path / "agent.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(["bash", str(ENTRYPOINT), "run"], env=base_env(
            FLCOLLECTOR_CONFIG=str(write_config(tmp_path))), stdout=subprocess.DEVNULL, stderr=stderr)
    try:

        def port() -> int | None:
            if process.poll() is not None:
                raise AssertionError(f"the agent exited early ({process.returncode}):\n{log.read_text()}")
            match = re.search(r"serving on http://127\.0\.0\.1:(\d+)", log.read_text())
            return int(match[1]) if match else None

        yield wait_for(port, 20, "the API to listen")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_the_check_follows_the_port_the_environment_gives(tmp_path: Path, agent_port: int) -> None:
    config = str(write_config(tmp_path))
    result = run_entrypoint({"FLCOLLECTOR_CONFIG": config, "COLLECTOR_PORT": str(agent_port)}, "--health")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"http://127.0.0.1:{agent_port}/health: 200"
    # FLOPY-NET's name for the port is resolved by the entrypoint before the check, as it is before `run`
    result = run_entrypoint({"FLCOLLECTOR_CONFIG": config, "API_PORT": str(agent_port)}, "--health")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_where_no_agent_answers(tmp_path: Path, agent_port: int) -> None:
    config = str(write_config(tmp_path, port=agent_port))
    assert run_entrypoint({"FLCOLLECTOR_CONFIG": config}, "--health").returncode == 0  # the file's own port
    with socket.socket() as bound:  # bound, never listening: a connection to it is refused
        bound.bind(("127.0.0.1", 0))
        free = bound.getsockname()[1]
        result = run_entrypoint({"FLCOLLECTOR_CONFIG": config, "COLLECTOR_PORT": str(free)}, "--health")
    assert result.returncode == 1
    assert result.stdout.startswith(f"http://127.0.0.1:{free}/health: ")


def test_a_server_on_port_0_cannot_be_checked(tmp_path: Path) -> None:
    result = run_entrypoint({"FLCOLLECTOR_CONFIG": str(write_config(tmp_path))}, "--health")
    assert result.returncode == 1
    assert "port 0" in result.stdout and "COLLECTOR_PORT" in result.stdout


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8000/health"),
        ("::", "http://[::1]:8000/health"),
        ("192.168.141.40", "http://192.168.141.40:8000/health"),
    ],
)
def test_a_wildcard_bind_is_asked_on_loopback(tmp_path: Path, host: str, url: str) -> None:
    assert healthcheck.health_url(str(write_config(tmp_path, host=host, port=8000))) == url
