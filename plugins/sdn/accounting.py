"""Flow counters turned into traffic per interval: by class and rule, and between the FL server and each peer.

Each flow entry's byte and packet counters become a delta since the previous poll (:class:`flcollector.CounterTracker`,
keyed by ``flow_id``): a flow whose counters (or age) went back was re-installed and counts from zero, a flow
installed between two polls counts everything it holds, a flow the controller reports without counters yet keeps
its baseline. Whether a flow was installed since the last poll is told by its age against the flow tables' own
answer times (not the snapshot's time, which can be the port counters' earlier answer); a flow FLOPY-NET listed
without counters first (its entries have none until its stats loop reads them) is judged by the read before it was
first listed, so the traffic of its first stats period counts when the counters come.

A packet crosses every switch on its path and hits a flow entry on each, so a delta counts only where the packet
**entered** the network: at a switch whose ``in_port`` is not a link to another switch and to which the flow's
source host is attached (as far as the topology knows). The totals are then the bytes hosts sent, once each.

The endpoints of a flow come from its match (IPv4 or MAC source and destination) and, for a match on ``in_port``
and destination only (FLOPY-NET's learning entries), from the host the topology places on that port; MACs and IPs of
one host are joined by the topology's host list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from flcollector import CounterTracker, Metric

from .flowmatch import match_of
from .topology import SOURCE
from .traffic import CLASSES, Rule, classify


@attrs.frozen
class Endpoint:
    """One end of a flow: what is known of its addresses, and the switch it is attached to."""

    ip: str | None
    mac: str | None
    dpid: str | None

    @property
    def key(self) -> str:
        """How records name it: the IPv4 address when known, else the MAC."""
        return self.ip or self.mac or "unknown"

    @property
    def addresses(self) -> set[str]:
        """Its known addresses."""
        return {a for a in (self.ip, self.mac) if a}


class HostTable:
    """The topology's hosts by MAC, by IPv4 and by switch port, and which switch ports are links to other switches."""

    def __init__(
        self, hosts: Iterable[Mapping[str, Any]], links: Iterable[Mapping[str, Any]], key: object = None
    ) -> None:
        self.key = key  # equal keys: equal topologies (None: unknown, nothing is reused)
        self.by_mac: dict[str, Mapping[str, Any]] = {}
        self.by_ip: dict[str, Mapping[str, Any]] = {}
        self.by_port: dict[tuple[Any, Any], Mapping[str, Any] | None] = {}
        for host in hosts:
            self.by_mac[str(host["mac"]).lower()] = host
            self.by_ip.update((str(ip), host) for ip in host.get("ips", []))
            where = (host.get("dpid"), host.get("port"))
            self.by_port[where] = None if where in self.by_port else host  # a port with two hosts names neither
        self.link_ports = {(end, link[f"{side}_port"]) for link in links for side, end in _ends(link)}

    def endpoint(self, ip: str | None, mac: str | None, at: tuple[str, int | None] | None = None) -> Endpoint | None:
        """The endpoint with this address, or (given neither) the one host on switch port ``at``."""
        host = (self.by_ip.get(ip) if ip else None) or (self.by_mac.get(mac) if mac else None)
        if host is None and not ip and not mac and at is not None and at[1] is not None:
            host = self.by_port.get(at)
        if host is None and not ip and not mac:
            return None
        if host is None:
            return Endpoint(ip, mac, None)
        known_ip = ip or next((str(a) for a in host.get("ips", [])), None)
        return Endpoint(known_ip, mac or str(host["mac"]).lower(), host.get("dpid"))

    def transit(self, dpid: str, in_port: int | None, source: Endpoint | None) -> bool:
        """Whether a flow entry of switch ``dpid`` sees packets that entered the network elsewhere."""
        if in_port is not None and (dpid, in_port) in self.link_ports:
            return True
        return source is not None and source.dpid is not None and source.dpid != dpid


@attrs.frozen
class Placement:
    """Where a flow entry's traffic counts: not at all (``transit``), in which class by which rule, and for which
    FL-server peer in which direction."""

    transit: bool
    kind: str
    rule: str
    peer: tuple[str, str] | None


def _ends(link: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [("source", link["source"]), ("target", link["target"])]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class TrafficAccounting:
    """Per-interval traffic from flow counters: ``sdn_traffic``, ``sdn_traffic_rule`` and ``sdn_fl_peer`` records."""

    def __init__(self, rules: list[Rule], fl_server: Iterable[str]) -> None:
        self.rules = rules
        self.fl_server = {str(a).lower() for a in fl_server}
        self.counters: CounterTracker[str] = CounterTracker()
        self.read_at_s: float | None = None  # when the committed flow counters were read
        self.answered_s: float | None = None  # when the committed flow table answered (the entries' ages are then)
        self._listed: set[str] = set()  # the flows of the committed table, with counters or without
        #: flows listed without counters that were installed after a poll: the answer time of that poll's table
        self._installed_after: dict[str, float] = {}
        self.resets = 0
        self._placements: dict[str, Placement] = {}  # by flow_id, for the topology ``_placed_for``
        self._placed_for: object = None

    def account(
        self, flows: Mapping[str, list[dict[str, Any]]], hosts: HostTable, time_ns: int, answered_ns: int | None = None
    ) -> tuple[list[Metric], Callable[[], None]]:
        """The records of the interval ending with these flows (none on the first poll), and the commit.
        ``time_ns`` is when the counters held (the interval's end); ``answered_ns`` when the flow table answered
        (the entries' ages were measured then; ``time_ns`` when not given)."""
        at_s = time_ns / 1e9
        answered_s = (answered_ns if answered_ns is not None else time_ns) / 1e9
        uncounted: dict[str, float | None] = {}  # flows without counters: installed after the read given, if known
        classes = {kind: [0, 0] for kind in CLASSES}  # bytes, packets
        rules: dict[tuple[str, str], list[int]] = {}  # (rule, class) -> bytes, packets, flows
        peers: dict[str, dict[str, dict[str, list[int]]]] = {}  # peer -> direction -> switch -> bytes, packets
        readings, seen, counted, resets, transit = [], [], 0, 0, 0
        if hosts.key is None or hosts.key != self._placed_for:  # another topology places flows elsewhere
            self._placements, self._placed_for = {}, hosts.key
        for dpid, switch_flows in flows.items():
            for flow in switch_flows:
                key = flow["flow_id"]
                seen.append(key)
                if not flow.get("counted", True):  # no counters yet: the baseline stays
                    uncounted[key] = self._installed_after.get(key) if key in self._listed else self.answered_s
                    continue
                counters = {"bytes": flow["byte_count"], "packets": flow["packet_count"]}
                uptime = _number(flow.get("duration_sec"))
                readings.append((key, counters, uptime))
                born_after = self._born_after(key, at_s, answered_s)
                delta = self.counters.delta(key, counters, at_s, uptime=uptime, born_after=born_after)
                if delta is None:
                    continue
                size, packets = int(delta.deltas["bytes"]), int(delta.deltas["packets"])
                counted, resets = counted + 1, resets + delta.reset
                place = self._place(flow, dpid, hosts)
                if place.transit:
                    transit += size
                    continue
                classes[place.kind][0] += size
                classes[place.kind][1] += packets
                row = rules.setdefault((place.rule, place.kind), [0, 0, 0])
                row[0], row[1], row[2] = row[0] + size, row[1] + packets, row[2] + 1
                if place.peer is not None:
                    cell = peers.setdefault(place.peer[0], {}).setdefault(place.peer[1], {}).setdefault(dpid, [0, 0])
                    cell[0], cell[1] = cell[0] + size, cell[1] + packets
        records: list[Metric] = []
        if self.read_at_s is not None:
            interval = at_s - self.read_at_s
            records.append(self._totals(classes, interval, counted, resets, transit, time_ns))
            for (rule, kind), (size, packets, count) in sorted(rules.items()):
                fields = {"bytes": size, "packets": packets, "flows": count}
                records.append(Metric("sdn_traffic_rule", fields, time_ns, {"rule": rule, "class": kind}, SOURCE))
            records += self._peer_records(peers, interval, time_ns)

        def commit() -> None:
            for key, counters, uptime in readings:
                self.counters.remember(key, counters, at_s, uptime=uptime)
            self.counters.retain(set(seen))
            self.read_at_s, self.answered_s, self._listed = at_s, answered_s, set(seen)
            self._installed_after = {key: after for key, after in uncounted.items() if after is not None}
            self.resets += resets

        return records, commit

    def _born_after(self, key: str, at_s: float, answered_s: float) -> float | None:
        """``born_after`` for the counter tracker: a flow seen for the first time counts in full when its age, as
        the table answered, is less than the time since the read it was installed after (the last table read, or
        the one before it was first listed without counters); None before any read (everything is older)."""
        after = self._installed_after.get(key, self.answered_s)
        # The tracker compares the age with ``at_s - born_after``: shift by the gap between the snapshot's time and
        # the table's answer, so the age is compared with ``answered_s - after``, both ends on the table's answers.
        return None if after is None else after - (answered_s - at_s)

    def _place(self, flow: Mapping[str, Any], dpid: str, hosts: HostTable) -> Placement:
        """Where a flow's traffic counts; what it matches never changes, so it is worked out once per topology."""
        place = self._placements.get(flow["flow_id"])
        if place is None:
            match = match_of(flow["match"])
            source = hosts.endpoint(match.ipv4_src, match.eth_src, (dpid, match.in_port))
            target = hosts.endpoint(match.ipv4_dst, match.eth_dst)
            addresses = (source.addresses if source else set()) | (target.addresses if target else set())
            kind, rule = classify(self.rules, addresses, match.l4_ports)
            place = Placement(hosts.transit(dpid, match.in_port, source), kind, rule, self._peer(source, target))
            self._placements[flow["flow_id"]] = place
        return place

    def _peer(self, source: Endpoint | None, target: Endpoint | None) -> tuple[str, str] | None:
        """``(peer, direction)`` when the flow connects the FL server with another address."""
        if source is None or target is None:
            return None
        from_server, to_server = bool(source.addresses & self.fl_server), bool(target.addresses & self.fl_server)
        if from_server == to_server:
            return None  # not the FL server's traffic (or its traffic with itself)
        return (target.key, "from_server") if from_server else (source.key, "to_server")

    @staticmethod
    def _totals(classes: dict, interval: float, counted: int, resets: int, transit: int, time_ns: int) -> Metric:
        fields: dict[str, float | int] = {}
        for kind, (size, packets) in classes.items():
            fields[f"{kind}_bytes"], fields[f"{kind}_packets"] = size, packets
        total = sum(size for size, _ in classes.values())
        fields.update(total_bytes=total, total_packets=sum(packets for _, packets in classes.values()))
        if total > 0:  # shares of nothing are no figure
            fields.update({f"{kind}_percent": 100.0 * classes[kind][0] / total for kind in CLASSES})
        fields.update(interval_s=interval, flows=counted, counter_resets=resets, transit_bytes=transit)
        return Metric("sdn_traffic", fields, time_ns, {}, SOURCE)

    @staticmethod
    def _peer_records(peers: dict, interval: float, time_ns: int) -> list[Metric]:
        """One ``sdn_fl_peer`` per peer; a direction seen on several switches (where the peer's location is not
        known) counts on the one that saw most, since each switch on the path saw the same packets."""
        records = []
        for peer, directions in sorted(peers.items()):
            fields: dict[str, float | int] = {}
            for direction in ("to_server", "from_server"):
                size, packets = max(directions.get(direction, {}).values(), default=[0, 0])
                fields[f"bytes_{direction}"], fields[f"packets_{direction}"] = size, packets
            fields["interval_s"] = interval
            records.append(Metric("sdn_fl_peer", fields, time_ns, {"peer": peer}, SOURCE))
        return records
