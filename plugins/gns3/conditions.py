"""What a GNS3 link was configured to do, from the controller's link and node objects. Pure functions.

The server's rules (``gns3server/controller/link.py``, ``udp_link.py``): ``filters`` maps a filter type to its values
(``delay`` [latency ms, jitter ms], ``packet_loss`` [%], ``corrupt`` [%], ``frequency_drop`` [N: every Nth packet,
-1 all], ``bpf`` [expressions]); there is no bandwidth filter. The filters run on ONE endpoint, the first whose node
type can filter (a link between two switches or hubs has none and applies nothing), and uBridge runs that one
filter chain for both directions, so a delay is paid twice per round trip and a loss rate twice. A suspended link
keeps showing its ``filters`` but runs ``frequency_drop -1`` instead: it drops everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

#: Node types whose endpoint runs a link's filters (``Link._get_filter_node``).
FILTER_NODE_TYPES = frozenset({"vpcs", "vmware", "dynamips", "qemu", "iou", "cloud", "nat", "virtualbox", "docker"})


@attrs.frozen
class LinkConfig:
    """One link as the controller reports it: its two ends ``(node_id, adapter, port)``, filters and suspension."""

    link_id: str
    ends: tuple[tuple[str, int, int], ...]
    filters: Mapping[str, list[Any]]
    suspend: bool


@attrs.frozen
class NodeInfo:
    """One node: name, type, status (None when the project is closed) and port names by ``(adapter, port)``."""

    node_id: str
    name: str
    node_type: str
    status: str | None
    ports: Mapping[tuple[int, int], str]


def parse_link(raw: Any) -> LinkConfig:
    """Check one link object's shape and return it; raises ValueError naming what is wrong."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("link_id"), str):
        raise ValueError("a link must be an object with a string link_id")
    ends = raw.get("nodes")
    if not isinstance(ends, list) or not all(isinstance(end, Mapping) and isinstance(end.get("node_id"), str)
                                             for end in ends):
        raise ValueError(f"link {raw['link_id']}: nodes must be a list of objects with a node_id")
    filters = raw.get("filters") or {}
    if not isinstance(filters, Mapping) or not all(isinstance(v, list) for v in filters.values()):
        raise ValueError(f"link {raw['link_id']}: filters must map a type to a list of values")
    suspend = raw.get("suspend", False)
    if not isinstance(suspend, bool):
        raise ValueError(f"link {raw['link_id']}: suspend must be a boolean")
    try:
        parsed = tuple((str(e["node_id"]), int(e.get("adapter_number", 0)), int(e.get("port_number", 0))) for e in ends)
    except (TypeError, ValueError):
        raise ValueError(f"link {raw['link_id']}: adapter and port numbers must be integers") from None
    return LinkConfig(raw["link_id"], parsed, {str(k): list(v) for k, v in filters.items()}, suspend)


def parse_node(raw: Any) -> NodeInfo:
    """Check one node object's shape and return it; raises ValueError naming what is wrong."""
    if not isinstance(raw, Mapping) or not all(isinstance(raw.get(k), str) for k in ("node_id", "name", "node_type")):
        raise ValueError("a node must be an object with string node_id, name and node_type")
    ports: dict[tuple[int, int], str] = {}
    for port in raw.get("ports") or []:
        if isinstance(port, Mapping) and isinstance(port.get("name"), str):
            try:
                ports[(int(port.get("adapter_number", 0)), int(port.get("port_number", 0)))] = port["name"]
            except (TypeError, ValueError):
                raise ValueError(f"node {raw['name']}: port numbers must be integers") from None
    status = raw.get("status")
    return NodeInfo(raw["node_id"], raw["name"], raw["node_type"], status if isinstance(status, str) else None, ports)


def _number(value: Any) -> float:
    """A filter value as a number: the server keeps numbers as int and strings as given (``"80"`` stays a string)."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _first(filters: Mapping[str, list[Any]], kind: str, index: int = 0) -> float:
    values = filters.get(kind) or []
    return _number(values[index]) if len(values) > index else 0.0


def conditions(filters: Mapping[str, list[Any]], suspend: bool, applied: bool | None) -> dict[str, Any]:
    """The ``gns3_link`` fields: what is configured, and what it should cost a round trip across this link.

    ``applied`` says whether an endpoint runs the filters (None: node types unknown; taken as applied).
    """
    latency, jitter = _first(filters, "delay"), _first(filters, "delay", 1)
    loss, frequency = _first(filters, "packet_loss"), _first(filters, "frequency_drop")
    expressions = [value for value in filters.get("bpf") or [] if isinstance(value, str)]
    bpf_lines = [line for text in expressions for line in text.splitlines() if line.strip()]
    fields: dict[str, Any] = {  # one type per field, always (a time-series store refuses a type change)
        "latency_ms": latency,
        "jitter_ms": jitter,
        "loss_pct": loss,
        "corrupt_pct": _first(filters, "corrupt"),
        "frequency_drop": int(frequency),
        "bpf_rules": len(bpf_lines),
        "suspended": suspend,
    }
    if applied is not None:
        fields["filters_applied"] = applied
    if applied is False:
        fields["rtt_added_ms"], fields["loss_roundtrip_pct"] = 0.0, 0.0
        return fields
    nth = 1.0 if frequency == -1 else 1.0 / frequency if frequency > 0 else 0.0
    drop = 1.0 if suspend else 1.0 - (1.0 - min(max(loss, 0.0), 100.0) / 100.0) * (1.0 - nth)
    fields["rtt_added_ms"] = 2 * latency  # the chain runs in both directions
    fields["loss_roundtrip_pct"] = round(100.0 * (1.0 - (1.0 - drop) ** 2), 6)
    return fields


def active(filters: Mapping[str, list[Any]], suspend: bool) -> bool:
    """Whether the link is configured to change traffic at all."""
    return suspend or bool(filters)


def filter_node(link: LinkConfig, nodes: Mapping[str, NodeInfo]) -> NodeInfo | None:
    """The endpoint that runs the filters (None: no endpoint can, or its node is unknown)."""
    known = [nodes[end[0]] for end in link.ends if end[0] in nodes]
    return next((node for node in known if node.node_type in FILTER_NODE_TYPES), None)


def applies_filters(link: LinkConfig, nodes: Mapping[str, NodeInfo]) -> bool | None:
    """Whether an endpoint runs the filters; None when that is unknown (a node of the link is unknown)."""
    if filter_node(link, nodes) is not None:
        return True
    return False if all(end[0] in nodes for end in link.ends) else None


def link_tags(project: str, link: LinkConfig, nodes: Mapping[str, NodeInfo]) -> dict[str, str]:
    """Tags naming the link and both ends (node name and port name, ids when the nodes are unknown)."""
    tags = {"project": project, "link_id": link.link_id}
    names = []
    for side, (node_id, adapter, port) in zip("ab", link.ends, strict=False):
        node = nodes.get(node_id)
        tags[f"node_{side}"] = node.name if node else node_id
        tags[f"port_{side}"] = node.ports.get((adapter, port), f"{adapter}/{port}") if node else f"{adapter}/{port}"
        names.append(f"{tags[f'node_{side}']}:{tags[f'port_{side}']}")
    tags["link"] = "<->".join(names)
    runner = filter_node(link, nodes)
    tags["filter_node"] = runner.name if runner is not None else ""
    return tags


def filter_changes(
    before: Mapping[str, list[Any]], before_suspend: bool, after: Mapping[str, list[Any]], after_suspend: bool
) -> dict[str, dict[str, Any]]:
    """Per filter type (and ``suspend``) that differs: ``{"before": values | None, "after": values | None}``."""
    changes: dict[str, dict[str, Any]] = {
        kind: {"before": before.get(kind), "after": after.get(kind)}
        for kind in sorted(set(before) | set(after))
        if before.get(kind) != after.get(kind)
    }
    if before_suspend != after_suspend:
        changes["suspend"] = {"before": before_suspend, "after": after_suspend}
    return changes
