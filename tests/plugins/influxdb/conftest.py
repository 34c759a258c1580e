"""A real InfluxDB 1.x (``influxd``) for this folder's tests, one per session; each test uses its own database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from remote_servers import InfluxServer, session_server


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """InfluxDB on 127.0.0.1 (skipped when not installed, failed when FLCOLLECTOR_REQUIRE_INFLUXDB=1)."""
    yield from session_server(InfluxServer, tmp_path_factory)
