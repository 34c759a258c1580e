"""Fixtures shared by the sqlite tests: an open store with retention off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from flcollector.plugins.sqlite import SqliteStore


@pytest.fixture
async def store(make_component: Callable[..., Any]) -> AsyncIterator[SqliteStore]:
    """An open sqlite store under the test's data dir, retention off."""
    sink = make_component(SqliteStore, {"retention": "0s"})
    async with sink:
        yield sink
