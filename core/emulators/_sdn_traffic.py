"""The SDN emulator's data plane: hosts, conversations between them, the flow entries they hit, and counters that agree.

Every tick each conversation sends its bytes along the chain of switches from the source's switch to the
destination's. At every switch on the way it hits exactly one flow entry (installed on first use, as a learning
controller would) and crosses two ports: the packets are received on the port they came in by and transmitted on
the port they leave by. So, as on a real switch, the bytes of the flows entering by a port add up to that port's
``rx_bytes``, and a client's port counters equal what its conversations moved. Each host also sends one ARP
broadcast per tick, which the switch punts to the controller by its table-miss entry.

Which flow entries a controller installs is its own: FLOPY-NET's ``policy_switch`` matches IPv4 source and
destination for pairs the policy engine allowed and ``in_port`` + ``eth_dst`` otherwise; Ryu's ``simple_switch_13``
and ONOS's ``fwd`` match ``in_port``, ``eth_src`` and ``eth_dst``.
"""

from __future__ import annotations

import time
from typing import Any

import attrs

COUNTERS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped", "rx_errors", "tx_errors")
CONTROLLER = "CONTROLLER"  # OFPP_CONTROLLER
NORMAL = "NORMAL"  # OFPP_NORMAL
ARP_BYTES = 60  # a minimum-size Ethernet frame
#: FLOPY-NET's addressing (config/network_addressing.json): role -> IPv4 address
ADDRESSES = {"fl-server": "192.168.100.10", "policy-engine": "192.168.100.20", "collector": "192.168.100.40"}
GATEWAY = "192.168.100.1"
SDN_CONTROLLER_IP = "192.168.100.41"


def packets_of(size: int) -> int:
    """Full-size (1500-byte) frames needed for ``size`` bytes."""
    return max(1, -(-size // 1500))


def mac_of(ip: str) -> str:
    """A host's MAC from its IPv4 address, the way Docker derives one (``02:42`` + the address)."""
    return "02:42:" + ":".join(f"{int(octet):02x}" for octet in ip.split("."))


@attrs.define
class Host:
    """A host attached to a switch port."""

    mac: str
    ip: str
    role: str  # fl-server, policy-engine, collector, gateway, client-<n>
    dpid: int
    port: int


@attrs.define
class Conversation:
    """``bytes_per_tick`` from host ``src`` to host ``dst`` (MACs); ``ip_flow``: the policy engine allowed the pair."""

    src: str
    dst: str
    bytes_per_tick: int
    ip_flow: bool = True


@attrs.define(eq=False)
class Flow:
    """One flow entry of one switch, in OpenFlow terms (OXM field names in ``match``)."""

    dpid: int
    priority: int
    match: dict[str, Any]
    out_port: int | str
    idle_timeout: int = 0
    created: float = attrs.Factory(time.time)
    packet_count: int = 0
    byte_count: int = 0
    cookie: int = 0
    #: installed by the running controller (FLOPY-NET: ``add_flow``), not only found in a switch's stats reply
    by_controller: bool = True
    #: the controller has had a stats reply for it (FLOPY-NET shows no counters before)
    stats_seen: bool = False

    def count(self, size: int, packets: int) -> None:
        """Account one transmission."""
        self.byte_count += size
        self.packet_count += packets


def default_flows(flavour: str, dpid: int) -> list[Flow]:
    """The entries a controller installs when a switch connects."""
    if flavour == "onos":  # ONOS core: punt ARP, LLDP and BDDP; fwd: punt IPv4
        punts = [(40000, 0x0806), (40000, 0x88CC), (40000, 0x8942), (5, 0x0800)]
        return [Flow(dpid, priority, {"eth_type": eth_type}, CONTROLLER) for priority, eth_type in punts]
    flows = [Flow(dpid, 0, {}, CONTROLLER)]  # table-miss
    if flavour == "ryu":  # policy_switch: ICMP allowed, controller traffic protected (NODE_IP_SDN_CONTROLLER set)
        flows.append(Flow(dpid, 40, {"eth_type": 0x0800, "ip_proto": 1}, NORMAL))
        for field in ("ipv4_dst", "ipv4_src"):
            flows.append(Flow(dpid, 1000, {"eth_type": 0x0800, field: SDN_CONTROLLER_IP}, NORMAL))
    return flows


def learned_match(flavour: str, conversation: Conversation, hosts: dict[str, Host], in_port: int) -> tuple[int, dict]:
    """Priority and match of the entry the controller installs for ``conversation`` arriving by ``in_port``."""
    src, dst = hosts[conversation.src], hosts[conversation.dst]
    if flavour == "ryu":
        if conversation.ip_flow:  # policy_switch's "allow" entry
            return 20, {"eth_type": 0x0800, "ip_proto": 6, "ipv4_src": src.ip, "ipv4_dst": dst.ip}
        return 10, {"in_port": in_port, "eth_dst": dst.mac}  # its learning entry
    priority = 1 if flavour == "ofctl" else 10  # simple_switch_13, ONOS fwd
    return priority, {"in_port": in_port, "eth_src": src.mac, "eth_dst": dst.mac}


def default_conversations(hosts: list[Host], background: bool) -> list[Conversation]:
    """FL rounds (clients <-> server), policy checks, the collector's polls, and optionally background traffic."""
    by_role = {h.role: h.mac for h in hosts}
    clients = [h.mac for h in hosts if h.role.startswith("client-")]
    server, engine, collector = (by_role.get(r) for r in ("fl-server", "policy-engine", "collector"))
    talks: list[tuple[str | None, str | None, int, bool]] = []
    for index, client in enumerate(clients, 1):
        talks += [(client, server, 100_000 * index, True), (server, client, 300_000, True)]  # update, global model
        talks += [(client, engine, 500, True), (engine, client, 300, True)]  # the client's policy checks
    talks += [(server, engine, 1_500, True), (engine, server, 800, True)]
    talks += [(collector, server, 600, True), (server, collector, 12_000, True)]  # metrics polls
    talks += [(collector, engine, 600, True), (engine, collector, 8_000, True)]
    if background and clients and "gateway" in by_role:  # a dataset download, no policy decision: MAC entries
        talks += [(by_role["gateway"], clients[-1], 50_000, False), (clients[-1], by_role["gateway"], 2_000, False)]
    return [Conversation(src, dst, size, ip) for src, dst, size, ip in talks if src and dst]
