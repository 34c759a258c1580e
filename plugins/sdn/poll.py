"""What one poll of a controller yields, for Ryu and for ONOS: the same normalised :class:`Poll`.

Fetching has no side effect on the monitor's state (only which Ryu API answers, once detected, is remembered), so a
poll cut short by a timeout is simply repeated. Per-switch requests run concurrently, at most
``max_concurrent_requests`` at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import attrs
from flcollector import EndpointError

from . import topology

_SHAPE_ERRORS = (topology.ShapeError, KeyError, TypeError, ValueError, AttributeError, IndexError)


@attrs.define
class Poll:
    """One poll's normalised data; ``None`` means "not known this time" (an endpoint failed), never "empty"."""

    switches: list[dict[str, Any]] | None = None
    links: list[dict[str, Any]] | None = None
    hosts: list[dict[str, Any]] | None = None
    port_counters: dict[str, tuple[int, list[dict[str, Any]]]] = attrs.field(factory=dict)
    flows: dict[str, list[dict[str, Any]]] | None = None
    flows_at_ns: int = 0  # when the flow counters were read (the last answer, when they came per switch)
    #: when the flow table's answer came: the entries' ages were measured then (``flows_at_ns`` may be earlier, the
    #: port counters' answer, when flows and ports are one snapshot)
    flows_read_ns: int = 0
    performance: dict[str, Any] | None = None
    errors: list[EndpointError] = attrs.field(factory=list)
    partial_switches: bool = False  # some switch details (ONOS per-device ports) are missing this time

    @property
    def topology_complete(self) -> bool:
        """Whether switches, links and hosts are all fully known (only then can topologies be compared)."""
        known = self.switches is not None and self.links is not None and self.hosts is not None
        return known and not self.partial_switches


def parse(path: str, body: Any, parser: Callable[[Any], Any]) -> Any:
    """Apply ``parser`` to ``body``; a shape error becomes an :class:`EndpointError` naming ``path``."""
    try:
        return parser(body)
    except _SHAPE_ERRORS as exc:
        raise EndpointError(path, f"unexpected shape ({type(exc).__name__}: {exc})") from None


def take(poll: Poll, results: dict[Hashable, Any], key: Hashable) -> Any:
    """The result of job ``key``, or None after filing its error in ``poll.errors``."""
    value = results.get(key)
    if isinstance(value, EndpointError):
        poll.errors.append(value)
        return None
    return value
