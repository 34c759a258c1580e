"""How the two Ryu flavours spell a flow entry: FLOPY-NET's ``self.flows`` items and ``ofctl_v1_3``'s flow stats.

FLOPY-NET's ``PolicySwitchCore`` keeps ``self.flows[f"{dpid}_{priority}_{hash(str(match))}"]`` (Python's string
hash is salted per process: the keys change when the controller restarts). An entry it installed (``add_flow``) holds
``datapath_id, priority, match, actions, idle_timeout, hard_timeout, timestamp`` and gains ``packet_count,
byte_count, duration_sec, duration_nsec, last_updated`` from its first flow-stats reply
(``_flow_stats_reply_handler``); an entry first met in a stats reply (e.g. after a controller restart) holds
``datapath_id, table_id, priority, idle_timeout, hard_timeout, packet_count, byte_count, match, instructions,
duration_sec, duration_nsec, created_time``. ``match`` is ``OFPMatch.to_jsondict()``; actions are
``_serialize_single_action`` dicts. ``ofctl_v1_3.get_flow_stats`` gives ``match_to_str`` / ``actions_to_str``.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ._sdn_traffic import CONTROLLER, NORMAL, Flow

#: OXM field -> (OXM type number, value size in bytes); OFPMatch sorts its fields by the number
OXM = {
    "in_port": (0, 4),
    "eth_dst": (3, 6),
    "eth_src": (4, 6),
    "eth_type": (5, 2),
    "ip_proto": (10, 1),
    "ipv4_src": (11, 4),
    "ipv4_dst": (12, 4),
    "tcp_src": (13, 2),
    "tcp_dst": (14, 2),
    "udp_src": (15, 2),
    "udp_dst": (16, 2),
}
#: reserved OpenFlow 1.3 port numbers
PORT_NUMBERS = {CONTROLLER: 0xFFFFFFFD, NORMAL: 0xFFFFFFFA}
#: ``ofctl_v1_3.match_to_str``'s old field names
OFCTL_NAMES = {
    "eth_src": "dl_src",
    "eth_dst": "dl_dst",
    "eth_type": "dl_type",
    "ipv4_src": "nw_src",
    "ipv4_dst": "nw_dst",
    "ip_proto": "nw_proto",
    "tcp_src": "tp_src",
    "tcp_dst": "tp_dst",
    "udp_src": "tp_src",
    "udp_dst": "tp_dst",
}


def ordered(match: dict[str, Any]) -> list[tuple[str, Any]]:
    """The match's fields in OFPMatch order."""
    return sorted(match.items(), key=lambda item: OXM[item[0]][0])


def ofp_match_jsondict(match: dict[str, Any]) -> dict[str, Any]:
    """``OFPMatch.to_jsondict()`` of a serialised match (``length`` = header + the OXM TLVs, unpadded)."""
    fields = ordered(match)
    length = 4 + sum(4 + OXM[name][1] for name, _ in fields)
    tlvs = [{"OXMTlv": {"field": name, "mask": None, "value": value}} for name, value in fields]
    return {"OFPMatch": {"length": length, "oxm_fields": tlvs, "type": 1}}


def flopynet_key(flow: Flow, salt: int) -> str:
    """``f"{dpid}_{priority}_{hash(str(match))}"``, with a salted stand-in for Python's string hash."""
    digest = hashlib.blake2b(f"{salt}:{ordered(flow.match)}".encode(), digest_size=8).digest()
    return f"{flow.dpid}_{flow.priority}_{int.from_bytes(digest, 'big', signed=True)}"


def _flopynet_action(port: int | str) -> dict[str, Any]:
    """``_serialize_single_action`` of an ``OFPActionOutput``."""
    number = PORT_NUMBERS.get(str(port), port)
    max_len = 0xFFFF if port == CONTROLLER else 0xFFE5  # OFPCML_NO_BUFFER for the table-miss entry, else OFPCML_MAX
    return {"type": "OUTPUT", "port": number, "max_len": max_len, "description": f"Output to port {number}"}


def flopynet_entry(flow: Flow, last_stats: float) -> dict[str, Any]:
    """One value of FLOPY-NET's ``/stats/flows`` (and item of ``/stats/flowentry/<dpid>``)."""
    now = time.time()
    age = max(0.0, now - flow.created)
    counters = {
        "packet_count": flow.packet_count,
        "byte_count": flow.byte_count,
        "duration_sec": int(age),
        "duration_nsec": int(age % 1 * 1e9),
    }
    common = {"idle_timeout": flow.idle_timeout, "hard_timeout": 0}
    if not flow.by_controller:  # first met in a stats reply
        return {
            "datapath_id": flow.dpid,
            "table_id": 0,
            "priority": flow.priority,
            **common,
            **counters,
            "match": ofp_match_jsondict(flow.match),
            "instructions": [_flopynet_action(flow.out_port)],
            "created_time": last_stats,
        }
    entry = {
        "datapath_id": flow.dpid,
        "priority": flow.priority,
        "match": ofp_match_jsondict(flow.match),
        "actions": [_flopynet_action(flow.out_port)],
        **common,
        "timestamp": flow.created,
    }
    if flow.stats_seen:
        entry.update(counters, last_updated=last_stats)
    return entry


def ofctl_entry(flow: Flow) -> dict[str, Any]:
    """One item of ``ofctl_v1_3.get_flow_stats`` (``to_user=True``)."""
    age = max(0.0, time.time() - flow.created)
    match: dict[str, Any] = {}
    for name, value in ordered(flow.match):
        match.setdefault(OFCTL_NAMES.get(name, name), value)
    match_len = 4 + sum(4 + OXM[name][1] for name in flow.match)
    return {
        "priority": flow.priority,
        "cookie": flow.cookie,
        "idle_timeout": flow.idle_timeout,
        "hard_timeout": 0,
        "byte_count": flow.byte_count,
        "duration_sec": int(age),
        "duration_nsec": int(age % 1 * 1e9),
        "packet_count": flow.packet_count,
        "length": 48 + (match_len + 7) // 8 * 8 + 24,  # ofp_flow_stats + padded match + one apply-actions output
        "flags": 0,
        "actions": [f"OUTPUT:{flow.out_port}"],
        "match": match,
        "table_id": 0,
    }
