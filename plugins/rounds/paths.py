"""What the GNS3 topology was configured to do to a path between two nodes, from one poll's ``gns3_link`` records.

The links of a poll form a graph of node names (``node_a`` / ``node_b``). The path between two nodes is the
shortest one (fewest links: GNS3 topologies are trees or nearly so, and switches forward along them); what it was
configured to do is what its links add up to: the added round-trip delay (each link's ``rtt_added_ms``, already
twice its delay since uBridge delays both directions), the round-trip loss (``1 - Π(1 - loss_i)`` over each
link's ``loss_roundtrip_pct``; a suspended link loses everything), and the jitter (the sum of the links'
one-way ``jitter_ms``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from flcollector import Metric


@attrs.frozen
class PathConditions:
    """What a path was configured to add: round-trip delay and loss, jitter, and how many links it crosses."""

    rtt_added_ms: float
    loss_roundtrip_pct: float
    jitter_ms: float
    links: int


def _number(fields: Mapping[str, Any], key: str) -> float:
    value = fields.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class LinkGraph:
    """The links of one GNS3 poll as a graph; :meth:`path` answers for any two nodes."""

    def __init__(self, links: Iterable[Metric]) -> None:
        self.neighbours: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        self.configured = self.suspended = 0
        for link in links:
            a, b = link.tags.get("node_a"), link.tags.get("node_b")
            if not a or not b:
                continue
            self.neighbours.setdefault(a, []).append((b, link.fields))
            self.neighbours.setdefault(b, []).append((a, link.fields))
            applied = _number(link.fields, "rtt_added_ms") > 0 or _number(link.fields, "loss_roundtrip_pct") > 0
            self.configured += applied
            self.suspended += bool(link.fields.get("suspended"))
        self._trees: dict[str, dict[str, tuple[str, Mapping[str, Any]] | None]] = {}

    def _tree(self, source: str) -> dict[str, tuple[str, Mapping[str, Any]] | None]:
        """Breadth-first parents from ``source`` (each node: the node before it and the link between them)."""
        tree = self._trees.get(source)
        if tree is None:
            tree = {source: None}
            queue = deque([source])
            while queue:
                node = queue.popleft()
                for neighbour, fields in self.neighbours.get(node, []):
                    if neighbour not in tree:
                        tree[neighbour] = (node, fields)
                        queue.append(neighbour)
            self._trees[source] = tree
        return tree

    def path(self, source: str, target: str) -> PathConditions | None:
        """The configured conditions between two nodes, None when the poll does not connect them."""
        tree = self._tree(source)
        if target not in tree or source not in self.neighbours:
            return None
        rtt = jitter = 0.0
        delivered = 1.0
        hops = 0
        node = target
        while (step := tree[node]) is not None:
            node, fields = step
            rtt += _number(fields, "rtt_added_ms")
            jitter += _number(fields, "jitter_ms")
            delivered *= 1.0 - min(_number(fields, "loss_roundtrip_pct"), 100.0) / 100.0
            hops += 1
        return PathConditions(rtt, 100.0 * (1.0 - delivered), jitter, hops)
