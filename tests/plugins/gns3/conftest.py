"""A GNS3 emulator and a ``gns3`` monitor polling it, with every record the monitor returned."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trio
from flcollector import Event, Metric, Record
from flcollector.emulators.gns3 import Gns3Emulator, put_link
from flcollector.plugins.gns3.monitor import Gns3Monitor


class Harness:
    """The emulator, the monitor, and what it returned so far."""

    def __init__(self, emulator: Gns3Emulator, monitor: Gns3Monitor) -> None:
        self.emulator = emulator
        self.monitor = monitor
        self.records: list[Record] = []

    async def collect(self) -> list[Record]:
        got = list(await self.monitor.collect())
        self.records.extend(got)
        return got

    def events(self, kind: str, records: list[Record] | None = None) -> list[Event]:
        return [r for r in (self.records if records is None else records) if isinstance(r, Event) and r.type == kind]

    def metrics(self, name: str, records: list[Record] | None = None) -> list[Metric]:
        return [r for r in (self.records if records is None else records) if isinstance(r, Metric) and r.name == name]

    def uplink_metric(self, records: list[Record]) -> Metric:
        uplink = "fl-server:eth0<->openvswitch:eth1"
        [metric] = [m for m in self.metrics("gns3_link", records) if m.tags["link"] == uplink]
        return metric

    async def put_uplink(self, body: dict[str, Any], *, api: str = "v2", token: str | None = None) -> None:
        """Change the FL server's uplink through the real route, as a scenario script does."""
        uplink = self.emulator.link_between("fl-server", "openvswitch")
        response = await put_link(self.emulator.url or "", self.emulator.project.project_id, uplink.link_id, body,
                                  api=api, token=token)
        assert response.status_code in (200, 201), response.text


async def start(
    nursery: trio.Nursery, make_component: Callable[..., Any], emulator: Gns3Emulator, **options: Any
) -> Harness:
    url = await nursery.start(emulator.serve)
    monitor = make_component(Gns3Monitor, {"url": url, **options})
    await monitor.open()
    return Harness(emulator, monitor)


@pytest.fixture
async def harness(nursery: trio.Nursery, make_component: Callable[..., Any]) -> AsyncIterator[Harness]:
    h = await start(nursery, make_component, Gns3Emulator(auto_close_delay=0.05))
    yield h
    await h.monitor.close()
