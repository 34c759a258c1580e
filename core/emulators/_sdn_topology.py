"""The SDN emulator's switches, ports, links and hosts.

Switch ``i`` of the chain has host ports ``1..hosts_per_switch + 1`` (the last one free for a client that joins),
then an uplink to the previous switch and one to the next. The first hosts are FLOPY-NET's: the FL server, the
policy engine, clients, the collector and a gateway, at FLOPY-NET's addresses.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from ._sdn_traffic import ADDRESSES, GATEWAY, Conversation, Host, mac_of

Hop = tuple[int, int, int]  # (dpid, in port, out port)


def roles(count: int) -> list[str]:
    """Who the first ``count`` hosts are: the FL server, the policy engine, clients, the collector, a gateway."""
    if count >= 5:
        return ["fl-server", "policy-engine", *(f"client-{i}" for i in range(1, count - 3)), "collector", "gateway"]
    return ["fl-server", *(f"client-{i}" for i in range(1, count))]


def ip_of(role: str) -> str:
    """FLOPY-NET's address of a role (clients from .101 on)."""
    if role.startswith("client-"):
        return f"192.168.100.{100 + int(role.split('-')[1])}"
    return ADDRESSES.get(role, GATEWAY)


class Topology:
    """The chain of switches, their ports and links, and the hosts attached to them."""

    def __init__(self, dpids: list[int], hosts_per_switch: int) -> None:
        self.dpids = dpids
        self.hosts_per_switch = hosts_per_switch
        self.ports: dict[tuple[int, int], dict[str, Any]] = {}  # (dpid, port_no) -> {name, hw_addr, up}
        self.port_started: dict[tuple[int, int], float] = {}
        self.connected_at: dict[int, float] = {}
        self.links: set[tuple[int, int, int, int]] = set()  # directed (src, src_port, dst, dst_port)
        self.hosts: dict[str, Host] = {}
        self.conversations: list[Conversation] = []
        for index, dpid in enumerate(dpids, 1):
            self._add_switch(index, dpid)
        slots = [(dpid, port) for dpid in dpids for port in range(1, hosts_per_switch + 1)]
        for role, (dpid, port) in zip(roles(len(slots)), slots, strict=True):
            self._attach(role, dpid, port)
        for a, b in itertools.pairwise(dpids):
            self.link_up(a, b)

    @property
    def switch_ids(self) -> list[int]:
        """The DPIDs of the switches, ascending."""
        return sorted(self.dpids)

    def switch_ports(self, dpid: int) -> list[int]:
        """Port numbers of one switch, ascending."""
        return sorted(port for d, port in self.ports if d == dpid)

    def host_list(self) -> list[Host]:
        """The hosts in attachment order."""
        return sorted(self.hosts.values(), key=lambda h: (self.dpids.index(h.dpid), h.port))

    def _add_switch(self, index: int, dpid: int) -> None:
        for port in range(1, self.hosts_per_switch + 4):
            name, hw_addr = f"s{index}-eth{port}", f"02:00:00:00:{index:02x}:{port:02x}"
            self.ports[(dpid, port)] = {"name": name, "hw_addr": hw_addr, "up": False}
            self.port_started[(dpid, port)] = time.time()
        self.connected_at[dpid] = time.time()

    def _attach(self, role: str, dpid: int, port: int) -> Host:
        ip = ip_of(role)
        host = Host(mac_of(ip), ip, role, dpid, port)
        self.hosts[host.mac] = host
        self.ports[(dpid, port)]["up"] = True
        return host

    def free_port(self) -> tuple[int, int] | None:
        """The first host port without a host, if any."""
        taken = {(h.dpid, h.port) for h in self.hosts.values()}
        free = [(d, p) for d in self.dpids for p in range(1, self.hosts_per_switch + 2) if (d, p) not in taken]
        return free[0] if free else None

    def add_client(self) -> str:
        """A new FL client joins at the first free host port and trains with the others; return its MAC."""
        where = self.free_port()
        if where is None:
            raise RuntimeError("no free host port")
        number = 1 + sum(1 for h in self.hosts.values() if h.role.startswith("client-"))
        host = self._attach(f"client-{number}", *where)
        server = next(h.mac for h in self.hosts.values() if h.role == "fl-server")
        self.conversations += [Conversation(host.mac, server, 100_000), Conversation(server, host.mac, 300_000)]
        return host.mac

    def _uplinks(self) -> tuple[int, int]:
        return self.hosts_per_switch + 2, self.hosts_per_switch + 3  # (to the previous switch, to the next)

    def link_up(self, a: int, b: int) -> None:
        """Connect switch ``a`` to the next one in the chain, ``b`` (both directions, as LLDP discovery reports)."""
        previous, following = self._uplinks()
        self.links |= {(a, following, b, previous), (b, previous, a, following)}
        self.ports[(a, following)]["up"] = self.ports[(b, previous)]["up"] = True

    def link_down(self, a: int, b: int) -> None:
        """Disconnect switch ``a`` from the next one, ``b``; their ports go down."""
        previous, following = self._uplinks()
        self.links -= {(a, following, b, previous), (b, previous, a, following)}
        self.ports[(a, following)]["up"] = self.ports[(b, previous)]["up"] = False

    def path(self, src: Host, dst: Host) -> list[Hop] | None:
        """The hops from ``src`` to ``dst`` along the chain, or None when a link on the way is down."""
        i, j = self.dpids.index(src.dpid), self.dpids.index(dst.dpid)
        step = 1 if j >= i else -1
        previous, following = self._uplinks()
        hops: list[Hop] = []
        in_port = src.port
        for k in range(i, j + step, step):
            dpid = self.dpids[k]
            if k == j:
                hops.append((dpid, in_port, dst.port))
                break
            out_port = following if step == 1 else previous
            peer_port = previous if step == 1 else following
            if (dpid, out_port, self.dpids[k + step], peer_port) not in self.links:
                return None
            hops.append((dpid, in_port, out_port))
            in_port = peer_port
        return hops
