"""Real InfluxDB 1.x, Redis and Prometheus servers for the remote-sink tests, started on 127.0.0.1 by hand.

Debian's packages do not start their daemons here (and must not listen beyond loopback), so each server runs from
its binary with its data under the test's tmp dir, on a free port, and can be stopped and started again on the same
port and data (the outage tests). A missing binary skips the tests, unless ``FLCOLLECTOR_REQUIRE_<NAME>=1`` (set by
``.ci/run``) makes it a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

S = TypeVar("S", bound="ServerProcess")
BINARIES = {"influxdb": "influxd", "redis": "redis-server", "prometheus": "prometheus"}


def free_port() -> int:
    """A port nothing listens on right now (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binary_or_skip(name: str) -> str:
    """The path of the server binary for ``name``; skip (or fail when required) if it is not installed."""
    path = shutil.which(BINARIES[name])
    if path is None:
        message = f"{BINARIES[name]} is not installed (apt-get install {name if name != 'redis' else 'redis-server'})"
        if os.environ.get(f"FLCOLLECTOR_REQUIRE_{name.upper()}"):
            pytest.fail(f"FLCOLLECTOR_REQUIRE_{name.upper()} is set but {message}")
        pytest.skip(message)
    return path


def session_server(cls: type[S], factory: pytest.TempPathFactory) -> Iterator[S]:
    """Start a server of ``cls`` for a session-scoped fixture; stop it afterwards."""
    server = cls(factory.mktemp(cls.name))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ServerProcess:
    """One server binary, startable and stoppable on a fixed port and data dir."""

    name = ""

    def __init__(self, root: Path) -> None:
        self.binary = self.find_binary()
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.root / "server.log"

    def find_binary(self) -> str:
        """The server's executable (skips or fails the test when it is not installed)."""
        return binary_or_skip(self.name)

    @property
    def url(self) -> str:
        """The HTTP base URL (InfluxDB, Prometheus)."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The command line."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether the server answers."""
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers (another process: polled, with a deadline)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer within {timeout}s: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def _http_ok(self, path: str) -> bool:
        try:
            return httpx.get(f"{self.url}{path}", timeout=1).status_code < 300
        except httpx.HTTPError:
            return False


class InfluxServer(ServerProcess):
    """InfluxDB 1.x (``influxd``): v1 ``/write`` and InfluxQL ``/query``."""

    name = "influxdb"

    def command(self) -> list[str]:
        """``influxd run`` with a config keeping every directory and port here."""
        config = self.root / "influxdb.conf"
        config.write_text(f"""
reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.root / 'meta'}"
  logging-enabled = false
[data]
  dir = "{self.root / 'data'}"
  wal-dir = "{self.root / 'wal'}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[continuous_queries]
  enabled = false
""")
        return [self.binary, "run", "-config", str(config)]

    def ready(self) -> bool:
        """``/ping`` answers 204."""
        return self._http_ok("/ping")

    def query(self, q: str, db: str | None = None) -> list[dict]:
        """Run InfluxQL and return the series of the first statement (``[]`` when none)."""
        params = {"q": q, "epoch": "ns"} | ({"db": db} if db else {})
        response = httpx.post(f"{self.url}/query", params=params, timeout=10)
        response.raise_for_status()
        result = response.json()["results"][0]
        if "error" in result:
            raise RuntimeError(result["error"])
        return list(result.get("series", []))


class RedisServer(ServerProcess):
    """Redis 7 (``redis-server``), with an append-only file here so a restart keeps what was written."""

    name = "redis"

    def command(self) -> list[str]:
        """``redis-server`` on loopback with its files here."""
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                "--appendfsync", "always", "--dir", str(self.root), "--protected-mode", "no"]

    def ready(self) -> bool:
        """``PING`` answers ``PONG``."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False


class PrometheusServer(ServerProcess):
    """Prometheus 2.x with the remote-write receiver on (``/api/v1/write``) and nothing to scrape."""

    name = "prometheus"

    def command(self) -> list[str]:
        """``prometheus`` on loopback, its TSDB here."""
        config = self.root / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        return [self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.root / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
                "--log.level=warn"]

    def ready(self) -> bool:
        """``/-/ready`` answers 200."""
        return self._http_ok("/-/ready")

    def query(self, expr: str, time_s: float | None = None) -> list[dict]:
        """Run an instant PromQL query; return the result vector."""
        params = {"query": expr} | ({"time": f"{time_s:.3f}"} if time_s is not None else {})
        response = httpx.get(f"{self.url}/api/v1/query", params=params, timeout=10)
        response.raise_for_status()
        return list(response.json()["data"]["result"])
