"""Comparing topologies: a canonical fingerprint, and the change events between two snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from flcollector import Event, Level

from .topology import SOURCE


def fingerprint(topology: Mapping[str, Any]) -> bytes:
    """A canonical form of a topology: equal exactly when switches, ports and their states, links and host
    attachments are equal (port counters are not part of a topology)."""
    return orjson.dumps(
        [
            sorted(topology["switches"], key=lambda s: s["id"]),
            sorted(topology["links"], key=lambda x: x["id"]),
            sorted(topology["hosts"], key=lambda h: h["id"]),
        ],
        option=orjson.OPT_SORT_KEYS,
    )


def changes(old: Mapping[str, Any], new: Mapping[str, Any], time_ns: int) -> list[Event]:
    """``NODE_CONNECTED``/``NODE_DISCONNECTED`` and ``LINK_ADDED``/``LINK_REMOVED`` events from ``old`` to ``new``."""
    events: list[Event] = []
    kinds = {"nodes": ("NODE_CONNECTED", "NODE_DISCONNECTED"), "links": ("LINK_ADDED", "LINK_REMOVED")}
    for kind, (added, removed) in kinds.items():
        before = {item["id"]: item for item in old[kind]}
        after = {item["id"]: item for item in new[kind]}
        transitions: tuple[tuple[str, Level, set[Any], dict[Any, Any]], ...] = (
            (added, "INFO", after.keys() - before.keys(), after),
            (removed, "WARNING", before.keys() - after.keys(), before),
        )
        for event_type, level, keys, items in transitions:
            verb = event_type.split("_")[1].lower()  # connected, disconnected, added, removed
            for key in sorted(keys):
                noun = items[key]["type"] if kind == "nodes" else "link"
                events.append(Event(event_type, f"{noun} {key} {verb}", time_ns, SOURCE, level, dict(items[key])))
    return events
