"""The SDN emulator's flow tables and port counters, and the tick that moves traffic through the topology.

See :mod:`._sdn_traffic` for what moves and why the counters agree. :meth:`DataPlane.impair` is a scenario knob (off
by default, like the faults): a lossy link in front of one host, as a GNS3 ``packet_loss`` filter on its link makes
it. The switch port facing that host drops the share of the host's packets the link loses, in both directions:
packets from the host are counted in that port's ``rx_dropped`` and go no further, packets to it in its
``tx_dropped``; flow entries count only what reached them.
"""

from __future__ import annotations

import time
from typing import Any

from ._sdn_topology import Topology
from ._sdn_traffic import (
    ARP_BYTES,
    CONTROLLER,
    COUNTERS,
    Conversation,
    Flow,
    default_conversations,
    default_flows,
    learned_match,
    packets_of,
)


class DataPlane(Topology):
    """Flow tables and counters over the topology; the emulator's flavour decides which flow entries get installed."""

    flavour: str

    def __init__(self, dpids: list[int], hosts_per_switch: int, background: bool) -> None:
        Topology.__init__(self, dpids, hosts_per_switch)
        self.counters: dict[tuple[int, int], dict[str, int]] = {key: dict.fromkeys(COUNTERS, 0) for key in self.ports}
        self.rates: dict[tuple[int, int], tuple[float, float]] = {}  # the controller's own rx/tx bps per port
        self.flows: dict[int, list[Flow]] = {dpid: default_flows(self.flavour, dpid) for dpid in dpids}
        self.learned: dict[tuple[Any, ...], Flow] = {}  # the learned entries by (switch, priority, match)
        self.key_salt = 0
        self.traffic_ticks = 0
        self.cumulative = self.fresh_cumulative()
        self.last_stats = time.time()
        self.conversations = default_conversations(self.host_list(), background)
        self.impaired: dict[str, float] = {}  # host role -> % of its packets its link loses (see impair)
        self._drop_carry: dict[tuple[str, str], float] = {}  # fractions of a packet not yet dropped

    def impair(self, role: str, loss_pct: float) -> None:
        """Scenario: the link of host ``role`` loses ``loss_pct`` % of its packets each way (0 repairs it)."""
        if loss_pct > 0:
            self.impaired[role] = min(float(loss_pct), 100.0)
        else:
            self.impaired.pop(role, None)

    def _dropped(self, role: str, direction: str, packets: int) -> int:
        """How many of ``packets`` the impaired link of ``role`` loses this time (exact on average)."""
        share = self.impaired.get(role, 0.0) / 100.0
        if not share:
            return 0
        due = self._drop_carry.get((role, direction), 0.0) + packets * share
        dropped = min(packets, int(due))
        self._drop_carry[(role, direction)] = due - dropped
        return dropped

    # -- traffic -------------------------------------------------------------------------------------------------

    def default_priorities(self) -> set[int]:
        """Priorities of the entries the controller installs itself when a switch connects."""
        return {flow.priority for flow in default_flows(self.flavour, 0)}

    def _flow(self, conversation: Conversation, dpid: int, in_port: int, out_port: int) -> Flow:
        priority, match = learned_match(self.flavour, conversation, self.hosts, in_port)
        key = (dpid, priority, tuple(sorted(match.items())))
        if key not in self.learned:
            self.learned[key] = Flow(dpid, priority, match, out_port, idle_timeout=300)
            self.flows[dpid].append(self.learned[key])
        return self.learned[key]

    def _punt_flow(self, dpid: int) -> Flow:
        """The entry that sends an ARP broadcast to the controller (table-miss, or ONOS's ARP punt)."""
        punts = (f for f in self.flows[dpid] if f.out_port == CONTROLLER and f.match.get("eth_type") in (None, 0x806))
        return next(punts)

    def advance_counters(self) -> None:
        """One tick of traffic: every conversation whose path is up, plus one ARP broadcast per host."""
        names = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")
        before = {key: tuple(c[name] for name in names) for key, c in self.counters.items()}
        flow_bytes = {id(f): (f.byte_count, f.packet_count) for flows in self.flows.values() for f in flows}
        for conversation in self.conversations:
            src, dst = self.hosts[conversation.src], self.hosts[conversation.dst]
            hops = self.path(src, dst)
            size, packets = conversation.bytes_per_tick, packets_of(conversation.bytes_per_tick)
            if hops and src.role in self.impaired:  # lost on the sender's link: dropped where it enters the switch
                lost = self._dropped(src.role, "rx", packets)
                self.counters[(src.dpid, src.port)]["rx_dropped"] += lost
                size, packets = size * (packets - lost) // packets, packets - lost
            for index, (dpid, in_port, out_port) in enumerate(hops or []):
                if not packets:
                    break
                self._flow(conversation, dpid, in_port, out_port).count(size, packets)
                self._count(dpid, in_port, "rx", size, packets)
                if index == len(hops or []) - 1 and dst.role in self.impaired:  # lost on the receiver's link
                    lost = self._dropped(dst.role, "tx", packets)
                    self.counters[(dpid, out_port)]["tx_dropped"] += lost
                    size, packets = size * (packets - lost) // packets, packets - lost
                self._count(dpid, out_port, "tx", size, packets)
        for host in self.hosts.values():
            self._punt_flow(host.dpid).count(ARP_BYTES, 1)
            self._count(host.dpid, host.port, "rx", ARP_BYTES, 1)
        self._noise()
        self._controller_stats(before, flow_bytes)

    def _count(self, dpid: int, port: int, direction: str, size: int, packets: int) -> None:
        self.counters[(dpid, port)][f"{direction}_bytes"] += size
        self.counters[(dpid, port)][f"{direction}_packets"] += packets

    def _noise(self) -> None:
        """Every fifth tick each up port drops a packet and counts a transmit error."""
        self.traffic_ticks += 1
        if self.traffic_ticks % 5 == 4:
            for key, info in self.ports.items():
                if info["up"]:
                    self.counters[key]["rx_dropped"] += 1
                    self.counters[key]["tx_errors"] += 1

    @staticmethod
    def fresh_cumulative() -> dict[str, float]:
        """FLOPY-NET's ``cumulative_stats`` of a controller that just started."""
        keys = ("total_bytes_transferred", "total_packets_transferred", "total_flows_created", "peak_bandwidth")
        return dict.fromkeys((*keys, "total_errors"), 0)

    def _controller_stats(self, before: dict, flow_before: dict) -> None:
        """What FLOPY-NET's stats loop keeps (``_port_stats_reply_handler``, ``_flow_stats_reply_handler``)."""
        now = time.time()
        elapsed = max(now - self.last_stats, 1e-6)
        self.last_stats = now
        total = self.cumulative
        for key, counters in self.counters.items():
            rx0, tx0, rxp0, txp0 = before[key]
            rx_bps, tx_bps = (counters["rx_bytes"] - rx0) * 8 / elapsed, (counters["tx_bytes"] - tx0) * 8 / elapsed
            self.rates[key] = (rx_bps, tx_bps)
            total["total_bytes_transferred"] += counters["rx_bytes"] - rx0 + counters["tx_bytes"] - tx0
            total["total_packets_transferred"] += counters["rx_packets"] - rxp0 + counters["tx_packets"] - txp0
            total["peak_bandwidth"] = max(total["peak_bandwidth"], rx_bps + tx_bps)
        for flows in self.flows.values():
            for flow in flows:
                old_bytes, old_packets = flow_before.get(id(flow), (0, 0))
                total["total_flows_created"] += 0 if id(flow) in flow_before else 1
                total["total_bytes_transferred"] += max(0, flow.byte_count - old_bytes)
                total["total_packets_transferred"] += max(0, flow.packet_count - old_packets)
                flow.stats_seen = True
        total["total_errors"] = sum(c["rx_errors"] + c["tx_errors"] for c in self.counters.values())

    def reset_counters(self) -> None:
        """Fault: the switches restart: port and flow counters, port and switch uptimes start from zero."""
        now = time.time()
        for key in self.counters:
            self.counters[key] = dict.fromkeys(COUNTERS, 0)
            self.port_started[key] = now
        self.connected_at = dict.fromkeys(self.connected_at, now)
        for flows in self.flows.values():
            for flow in flows:
                flow.byte_count = flow.packet_count = 0
                flow.created, flow.stats_seen = now, False

    def reinstall_flows(self) -> None:
        """Another controller app took over: the default entries of the new one; learned ones come with traffic."""
        self.flows = {dpid: default_flows(self.flavour, dpid) for dpid in self.dpids}
        self.learned = {}

    def port_stats(self, dpid: int) -> list[dict[str, Any]]:
        """OpenFlow port statistics of one switch (``OFPPortStats`` fields; uptime per port)."""
        items = []
        for port in self.switch_ports(dpid):
            uptime = time.time() - self.port_started[(dpid, port)]
            items.append(
                {
                    "port_no": port,
                    **self.counters[(dpid, port)],
                    "rx_frame_err": 0,
                    "rx_over_err": 0,
                    "rx_crc_err": 0,
                    "collisions": 0,
                    "duration_sec": int(uptime),
                    "duration_nsec": int(uptime % 1 * 1e9),
                }
            )
        return items
