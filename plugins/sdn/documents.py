"""The records of one poll that compare with the previous poll's: flow tables, topology, performance.

Each builder is pure: it returns the records and the new "last seen" key, which the monitor commits only when the
poll's records are returned.
"""

from __future__ import annotations

from typing import Any

import orjson
from flcollector import Event, Metric, Record

from . import diff, stats, topology
from .poll import Poll
from .topology import SOURCE


def flow_records(poll: Poll, last_key: list[str] | None, now: int) -> tuple[list[Record], list[str] | None]:
    """``sdn_flows`` per switch, and a ``FLOW_SNAPSHOT`` when the set of flows changed."""
    if poll.flows is None:
        return [], last_key
    records: list[Record] = []
    for dpid, flows in sorted(poll.flows.items()):
        fields = {
            "flows": len(flows),
            "active_flows": sum(1 for f in flows if f["packet_count"] > 0),
            "packets": sum(f["packet_count"] for f in flows),
            "bytes": sum(f["byte_count"] for f in flows),
        }
        records.append(Metric("sdn_flows", fields, now, {"switch": dpid}, SOURCE))
    everything = [flow for dpid in sorted(poll.flows) for flow in poll.flows[dpid]]
    key = stats.flow_identity(everything)
    if key != last_key:
        summary = stats.flow_summary(everything)
        message = f"{len(everything)} flows on {summary['switches_with_flows']} switches"
        details = {"flows": everything, "summary": summary}
        records.append(Event("FLOW_SNAPSHOT", message, now, SOURCE, "INFO", details))
    return records, key


def topology_records(
    poll: Poll, last: dict[str, Any] | None, last_key: bytes | None, now: int
) -> tuple[list[Record], dict[str, Any] | None, bytes | None]:
    """A ``TOPOLOGY_SNAPSHOT`` (and the change events) when the fully known topology changed."""
    if not poll.topology_complete:
        return [], last, last_key
    assert poll.switches is not None and poll.links is not None and poll.hosts is not None
    current = topology.snapshot(poll.switches, poll.links, poll.hosts)
    key = diff.fingerprint(current)
    if key == last_key:
        return [], current, key
    records: list[Record] = [*diff.changes(last, current, now)] if last is not None else []
    message = f"{len(poll.switches)} switches, {len(poll.links)} links, {len(poll.hosts)} hosts"
    records.append(Event("TOPOLOGY_SNAPSHOT", message, now, SOURCE, "INFO", current))
    return records, current, key


def performance_records(document: dict[str, Any], last_key: bytes | None, now: int) -> tuple[list[Record], bytes]:
    """A ``PERFORMANCE_SNAPSHOT`` when the document changed (its ``timestamp`` aside)."""
    key = orjson.dumps({k: v for k, v in document.items() if k != "timestamp"}, option=orjson.OPT_SORT_KEYS)
    if key == last_key:
        return [], key
    return [Event("PERFORMANCE_SNAPSHOT", "controller performance", now, SOURCE, "INFO", document)], key
