"""Port counters and flow entries of Ryu and ONOS, normalised.

Port counters: ``{"port_no", "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped",
"rx_errors", "tx_errors", "duration_sec"}``: counters are ints, ``duration_sec`` is the port's uptime in seconds
(with Ryu's nanoseconds). Flows (the ``FLOW_SNAPSHOT`` items): ``{"flow_id", "switch_dpid", "table_id", "priority",
"cookie", "packet_count", "byte_count", "duration_sec", "idle_timeout", "hard_timeout", "match", "actions",
"counted"}``; ONOS flows add ``state`` and ``app_id``. ``match`` stays in the controller's own spelling
(:mod:`.flowmatch` reads all three).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from .topology import ShapeError, dpid_hex, port_number

COUNTERS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped", "rx_errors", "tx_errors")
_ONOS_COUNTERS = {
    "rx_packets": "packetsReceived",
    "tx_packets": "packetsSent",
    "rx_bytes": "bytesReceived",
    "tx_bytes": "bytesSent",
    "rx_dropped": "packetsRxDropped",
    "tx_dropped": "packetsTxDropped",
    "rx_errors": "packetsRxErrors",
    "tx_errors": "packetsTxErrors",
}


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(f"not a counter: {value!r}")
    return int(value)


def _keyed_list(body: Any, requested: str) -> list[Mapping[str, Any]]:
    """Ryu answers ``{"<dpid as requested>": [items]}``; take that key (or the only one)."""
    if not isinstance(body, Mapping):
        raise ShapeError("expected {dpid: [items]}")
    items = body.get(requested)
    if items is None and len(body) == 1:
        items = next(iter(body.values()))
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise ShapeError("expected {dpid: [objects]}")
    return items


def ryu_port_counters(body: Any, requested: str) -> list[dict[str, Any]]:
    """``/stats/port/<dpid>`` → counters per port (the ``LOCAL`` port 0xfffffffe is kept like any other)."""
    return [
        {
            "port_no": port_number(i["port_no"]),
            **{k: _int(i.get(k, 0)) for k in COUNTERS},
            "duration_sec": _int(i.get("duration_sec", 0)) + _int(i.get("duration_nsec", 0)) / 1e9,
        }
        for i in _keyed_list(body, requested)
    ]


def onos_port_counters(body: Any) -> dict[str, list[dict[str, Any]]]:
    """``/onos/v1/statistics/ports`` → counters per port, by switch DPID."""
    devices = body.get("statistics") if isinstance(body, Mapping) else None
    if not isinstance(devices, list):
        raise ShapeError("expected {'statistics': [...]}")
    out: dict[str, list[dict[str, Any]]] = {}
    for device in devices:
        out[dpid_hex(device["device"])] = [
            {
                "port_no": port_number(p["port"]),
                **{k: _int(p.get(src, 0)) for k, src in _ONOS_COUNTERS.items()},
                "duration_sec": _int(p.get("durationSec", 0)),
            }
            for p in device.get("ports", [])
        ]
    return out


def flow_id(flow: Mapping[str, Any]) -> str:
    """A stable id for a flow without one: a hash of where it lives and what it matches and does."""
    key = [flow.get(k) for k in ("switch_dpid", "table_id", "priority", "cookie", "match", "actions")]
    return hashlib.sha1(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def ryu_flow(item: Mapping[str, Any], dpid: str) -> dict[str, Any]:
    """One Ryu flow entry (``ofctl_rest``'s flow stats, or an item of FLOPY-NET's ``self.flows``), normalised.

    FLOPY-NET's entries have no counters until its first flow-stats reply: ``counted`` is False then (and the
    counters 0), so nobody mistakes "not yet known" for "nothing moved"."""
    flow = {
        "switch_dpid": dpid,
        "table_id": item.get("table_id", 0),
        "priority": item.get("priority", 0),
        "cookie": item.get("cookie", 0),
        "packet_count": _int(item.get("packet_count", 0)),
        "byte_count": _int(item.get("byte_count", 0)),
        "duration_sec": _int(item.get("duration_sec", 0)) + _int(item.get("duration_nsec", 0)) / 1e9,
        "idle_timeout": item.get("idle_timeout", 0),
        "hard_timeout": item.get("hard_timeout", 0),
        "match": item.get("match", {}),
        "actions": item.get("actions", item.get("instructions", [])),
    }
    return {"flow_id": flow_id(flow), **flow, "counted": "packet_count" in item and "byte_count" in item}


def ryu_flows(body: Any, requested: str, dpid: str) -> list[dict[str, Any]]:
    """``/stats/flow/<dpid>`` (``ofctl_rest``) or ``/stats/flowentry/<dpid>`` → flows of one switch."""
    return [ryu_flow(item, dpid) for item in _keyed_list(body, requested)]


def flopynet_flows(body: Any) -> dict[str, list[dict[str, Any]]]:
    """FLOPY-NET's ``/stats/flows`` (``{flow_key: {"datapath_id": int, ...}}``) → flows by switch DPID."""
    if not isinstance(body, Mapping) or not all(isinstance(item, Mapping) for item in body.values()):
        raise ShapeError("expected {flow_key: {datapath_id, ...}}")
    out: dict[str, list[dict[str, Any]]] = {}
    for item in body.values():
        dpid = dpid_hex(item["datapath_id"])
        out.setdefault(dpid, []).append(ryu_flow(item, dpid))
    return out


def onos_flows(body: Any) -> dict[str, list[dict[str, Any]]]:
    """``/onos/v1/flows`` → flows by switch DPID."""
    items = body.get("flows") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise ShapeError("expected {'flows': [...]}")
    out: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        dpid = dpid_hex(item["deviceId"])
        out.setdefault(dpid, []).append(
            {
                "flow_id": str(item["id"]),
                "switch_dpid": dpid,
                "table_id": item.get("tableId", 0),
                "priority": item.get("priority", 0),
                "cookie": item.get("id"),
                "packet_count": _int(item.get("packets", 0)),
                "byte_count": _int(item.get("bytes", 0)),
                "duration_sec": item.get("life", 0),
                "idle_timeout": item.get("timeout", 0),
                "hard_timeout": 0,
                "match": (item.get("selector") or {}).get("criteria", []),
                "actions": (item.get("treatment") or {}).get("instructions", []),
                "state": item.get("state"),
                "app_id": item.get("appId"),
                "counted": True,
            }
        )
    return out


def flow_summary(flows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals for the ``FLOW_SNAPSHOT``: flows, switches with flows, counts by priority and by table."""
    return {
        "total_flows": len(flows),
        "switches_with_flows": len({f["switch_dpid"] for f in flows}),
        "priority_stats": dict(Counter(str(f["priority"]) for f in flows)),
        "table_stats": dict(Counter(str(f["table_id"]) for f in flows)),
    }


def flow_identity(flows: Sequence[Mapping[str, Any]]) -> list[str]:
    """What makes the flow tables different: the flow ids (counters change all the time and do not count)."""
    return sorted(f["flow_id"] for f in flows)
