"""Helpers shared by the container tests (imported by name: pytest puts this folder on sys.path).

They run container/entrypoint.sh under bash with a clean, explicit environment.

Nothing here starts a container engine (container/test-image.sh builds and runs the image with podman) and nothing
contacts a 192.168.x address: the entrypoint is run with ``--print-env``, with ``FLCOLLECTOR_DRY_RUN=1`` (check and
print the resolved config), or against a config whose only network use is loopback.

The entrypoint checks that every directory the config writes to is writable, so the tests run it with
config/container.toml's ``/app/...`` paths moved under a temporary directory this user owns
(:func:`local_container_toml`), unless a test names its own file.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
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


def moved_container_toml(root: Path, source: Path = CONTAINER_TOML) -> Path:
    """Write ``source`` to ``root`` with its ``/app/...`` paths under ``root/app``; return the new file."""
    path = root / source.name
    path.write_text(source.read_text().replace('"/app/', f'"{root}/app/'))
    return path


@functools.cache
def local_container_toml() -> Path:
    """config/container.toml with ``/app`` moved under a temporary directory (removed when the tests end)."""
    root = Path(tempfile.mkdtemp(prefix="flcollector-container-"))
    atexit.register(shutil.rmtree, root, True)
    return moved_container_toml(root)


def base_env(**extra: str) -> dict[str, str]:
    """A minimal environment (no variable leaks in from the test runner) that finds this venv's flcollector."""
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "FLCOLLECTOR_CONFIG": str(local_container_toml()),
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


def source_urls(env: Mapping[str, str]) -> dict[str, str]:
    """The URL the agent will poll for each of fl, policy and sdn, from a dry run of the entrypoint with ``env``."""
    result = run_entrypoint({**env, "FLCOLLECTOR_DRY_RUN": "1"}, "run")
    assert result.returncode == 0, result.stderr
    monitors = json.loads(result.stdout)["monitors"]
    tables = ((name, table) for name in ("fl", "policy", "sdn") for table in monitors.get(name, []))
    return {name: table["url"] for name, table in tables if "url" in table}


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


def load_container_module(name: str) -> Any:
    """Import ``container/<name>.py`` (the image's helper scripts live beside the Dockerfile, not in a package)."""
    spec = importlib.util.spec_from_file_location(f"container_{name}", CONTAINER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # attrs and dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
