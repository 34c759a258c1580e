"""Helpers shared by the container tests (imported by name: pytest puts this folder on sys.path).

They run container/entrypoint.sh under bash with a clean, explicit environment.

Nothing here starts Docker (no engine runs on the test machines) and nothing contacts a 192.168.x address: the
entrypoint is run with ``--print-env``, with ``FLCOLLECTOR_DRY_RUN=1`` (check and print the resolved config), or,
for the signal test, against a config whose only network use is loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CONTAINER = REPO / "container"
ENTRYPOINT = CONTAINER / "entrypoint.sh"
CONTAINER_TOML = REPO / "config" / "container.toml"
GNS3_TOML = REPO / "config" / "scenarios" / "gns3.toml"
BIN = Path(sys.executable).parent

#: The environment of the spec's GNS3 collector node ("GNS3 Topology (Production Research)"), verbatim.
SPEC_GNS3_ENV = {
    "SERVICE_TYPE": "collector",
    "NETWORK_MODE": "gns3",
    "GNS3_NETWORK": "true",
    "USE_STATIC_IP": "true",
    "NODE_IP_FL_SERVER": "192.168.141.10",
    "NODE_IP_POLICY_ENGINE": "192.168.141.20",
    "POLICY_ENGINE_URL": "http://192.168.141.20:5000",
    "FL_SERVER_URL": "http://192.168.141.10:8081",
}


def base_env(**extra: str) -> dict[str, str]:
    """A minimal environment (no variable leaks in from the test runner) that finds this venv's flcollector."""
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "FLCOLLECTOR_CONFIG": str(CONTAINER_TOML),
        "FLCOLLECTOR_PYTHON": sys.executable,
        "FLCOLLECTOR_BIN": str(BIN / "flcollector"),
    }
    env.update(extra)
    return env


def run_entrypoint(env: Mapping[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint under bash with exactly ``base_env() + env``; never starts the agent unless told to."""
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *args],
        env=base_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def parse_env_lines(text: str) -> dict[str, str]:
    """Parse ``NAME=value`` lines as printed by ``entrypoint.sh --print-env``."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {name: value for name, value in pairs}


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``condition()`` (another process's state) until it returns a truthy value or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
