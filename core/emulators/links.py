"""Let the emulated GNS3 links act on the emulated SDN data plane, as the real links act on the real switches.

The emulators serve independent APIs; in FLOPY-NET the GNS3 link filters shape the traffic the SDN switches count.
:func:`apply_links` carries a host's link loss from the GNS3 emulator to the SDN emulator (``DataPlane.impair``):
the ``packet_loss`` of the link joining the host to the OpenVSwitch, or everything when the link is suspended or
drops every packet. Delay is not carried: the emulated switches count packets, not their time on the wire.
"""

from __future__ import annotations

import trio

from ._gns3_model import Link
from .gns3 import Gns3Emulator
from .sdn_controller import SdnControllerEmulator

SWITCH = "openvswitch"  # the GNS3 node every FLOPY-NET host hangs off


def link_loss_pct(link: Link) -> float:
    """The share of packets (%) the link's active filters drop each way."""
    active = link.active_filters()
    if active.get("frequency_drop", [0])[0] == -1:
        return 100.0
    loss = active.get("packet_loss", [0])
    return float(loss[0]) if loss else 0.0


def sdn_role(node: str) -> str:
    """The SDN emulator's role of a GNS3 node (``fl-client-1`` is ``client-1`` there)."""
    return node.removeprefix("fl-") if node.startswith("fl-client-") else node


def apply_links(gns3: Gns3Emulator, sdn: SdnControllerEmulator) -> None:
    """Impair every SDN host as the GNS3 link between its node and the OpenVSwitch says."""
    roles = {host.role for host in sdn.hosts.values()}
    for node in gns3.project.nodes.values():
        role = sdn_role(node.name)
        if role not in roles or node.name == SWITCH:
            continue
        try:
            link = gns3.link_between(node.name, SWITCH)
        except StopIteration:
            continue
        sdn.impair(role, link_loss_pct(link))


async def follow_links(gns3: Gns3Emulator, sdn: SdnControllerEmulator, tick: float) -> None:
    """Apply the GNS3 links to the SDN data plane every ``tick`` seconds until cancelled."""
    while True:
        apply_links(gns3, sdn)
        await trio.sleep(tick)
