"""A real Redis (``redis-server``) for this folder's tests, one per session; each test uses its own key prefix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from remote_servers import RedisServer, session_server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Redis on 127.0.0.1 (skipped when not installed, failed when FLCOLLECTOR_REQUIRE_REDIS=1)."""
    yield from session_server(RedisServer, tmp_path_factory)
