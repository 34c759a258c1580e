"""A real Prometheus with the remote-write receiver for this folder's tests, one per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from remote_servers import PrometheusServer, session_server


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """Prometheus on 127.0.0.1 (skipped when not installed, failed when FLCOLLECTOR_REQUIRE_PROMETHEUS=1)."""
    yield from session_server(PrometheusServer, tmp_path_factory)
