"""Fixtures of the sdn monitor tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trio
from flcollector.emulators.sdn_controller import SdnControllerEmulator
from sdn_helpers import FLAVOURS, Harness, start


@pytest.fixture(params=FLAVOURS)
async def harness(
    request: pytest.FixtureRequest, nursery: trio.Nursery, make_component: Callable[..., Any]
) -> AsyncIterator[Harness]:
    """The monitor polling a default emulator of each flavour (FLOPY-NET's Ryu, stock Ryu, ONOS)."""
    h = await start(nursery, make_component, SdnControllerEmulator(request.param))
    yield h
    await h.monitor.close()
