"""Fixtures for the ``fl`` monitor tests: a running emulated FL server and a collection loop helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.plugins.fl.monitor import FlMonitor


@pytest.fixture
async def fl_server(nursery: trio.Nursery) -> FlServerEmulator:
    """An emulated FL server on 127.0.0.1, port 0, with 4 clients and 30 rounds (seeded)."""
    emulator = FlServerEmulator(num_clients=4, max_rounds=30, seed=7)
    await nursery.start(emulator.serve)
    return emulator


@pytest.fixture
def fl_monitor(make_component: Callable[..., Any], fl_server: FlServerEmulator) -> Callable[..., Any]:
    """Build an ``fl`` monitor pointed at the emulator (extra options may be given)."""

    def build(agent: Any = None, **options: Any) -> FlMonitor:
        monitor: FlMonitor = make_component(FlMonitor, {"url": fl_server.url, **options}, agent=agent)
        return monitor

    return build
