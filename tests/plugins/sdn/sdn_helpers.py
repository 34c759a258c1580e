"""What the sdn monitor tests share: an emulator with a monitor polling it, and record filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio
from flcollector import Event, Metric, Record
from flcollector.emulators.sdn_controller import SdnControllerEmulator
from flcollector.plugins.sdn.monitor import SdnMonitor

FLAVOURS = ["ryu", "ofctl", "onos"]  # FLOPY-NET's Ryu controller, stock Ryu (ofctl_rest), ONOS


class Harness:
    """An emulator, a monitor polling it, and the records of every poll (one list per poll)."""

    def __init__(self, emulator: SdnControllerEmulator, monitor: SdnMonitor) -> None:
        self.emulator = emulator
        self.monitor = monitor
        self.polls: list[list[Record]] = []

    async def collect(self) -> list[Record]:
        got = list(await self.monitor.collect())
        self.polls.append(got)
        return got

    @property
    def records(self) -> list[Record]:
        return [r for poll in self.polls for r in poll]


def events(records: list[Record], kind: str) -> list[Event]:
    return [r for r in records if isinstance(r, Event) and r.type == kind]


def metrics(records: list[Record], name: str) -> list[Metric]:
    return [r for r in records if isinstance(r, Metric) and r.name == name]


def controller_of(emulator: SdnControllerEmulator) -> str:
    """The monitor's ``controller`` option for an emulator flavour (both Ryu flavours are ``ryu``)."""
    return "onos" if emulator.flavour == "onos" else "ryu"


async def start(
    nursery: trio.Nursery, make_component: Callable[..., Any], emulator: SdnControllerEmulator, **options: Any
) -> Harness:
    url = await nursery.start(emulator.serve)
    monitor = make_component(SdnMonitor, {"url": url, "controller": controller_of(emulator), **options})
    await monitor.open()
    return Harness(emulator, monitor)


def host_rx(emulator: SdnControllerEmulator) -> dict[str, int]:
    """Bytes each host sent so far (its switch port's ``rx_bytes``), by role."""
    return {h.role: emulator.counters[(h.dpid, h.port)]["rx_bytes"] for h in emulator.hosts.values()}
