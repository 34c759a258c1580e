"""What a round's events say that its row does not: a bounded memory of recent round events, matched to rows.

The FL server stores a round's row, then logs ``EVALUATION_COMPLETED`` and ``ROUND_COMPLETED``, whose ``timestamp``
detail is the row's ``timestamp`` (the same ``enhanced_metrics``): that string ties a row to its completion events
exactly, also when a new run re-uses round numbers. ``ROUND_STARTED`` and ``AGGREGATION_COMPLETED`` come earlier; the
newest of its round logged between the row's ``round_start_time`` and its timestamp belongs to it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import attrs

from .convert import time_ns_of

#: The event types whose details complete a round row.
ROUND_TYPES = frozenset({"ROUND_STARTED", "AGGREGATION_COMPLETED", "EVALUATION_COMPLETED", "ROUND_COMPLETED"})
_COMPLETION = ("EVALUATION_COMPLETED", "ROUND_COMPLETED")
_SLACK_NS = 1_000_000_000  # an event logged within a second before round_start_time still belongs to the round


@attrs.frozen
class RoundFacts:
    """The details of a row's round events found so far (``{}`` where none was seen)."""

    started: dict[str, Any] = attrs.field(factory=dict)
    aggregated: dict[str, Any] = attrs.field(factory=dict)
    evaluated: dict[str, Any] = attrs.field(factory=dict)  # EVALUATION_COMPLETED, with ROUND_COMPLETED's additions

    @property
    def complete(self) -> bool:
        """True when the row's completion events were seen."""
        return bool(self.evaluated)


@attrs.frozen
class _Seen:
    type: str
    round: int
    time_ns: int
    details: dict[str, Any]


def _stamp_ns(value: Any) -> int | None:
    try:
        return time_ns_of(value)
    except (ValueError, TypeError):
        return None


class RoundEvents:
    """The last ``capacity`` round events, oldest forgotten first (the FL server itself keeps 1000 events)."""

    def __init__(self, capacity: int = 1000) -> None:
        self._seen: deque[_Seen] = deque(maxlen=capacity)

    def add(self, events: Iterable[tuple[str, int | None, int, Any]]) -> None:
        """Remember ``(type, round, time_ns, details)`` of events in the order the server logged them."""
        for type_, number, time_ns, details in events:
            if type_ in ROUND_TYPES and isinstance(number, int) and isinstance(details, dict):
                self._seen.append(_Seen(type_, number, time_ns, details))

    def facts(self, row: dict[str, Any]) -> RoundFacts:
        """The details of ``row``'s round events (rows are validated: an int ``round``, a parsable timestamp)."""
        number, end_ns = row["round"], time_ns_of(row["timestamp"])
        raw = row.get("raw_metrics")
        begun = raw.get("round_start_time") if isinstance(raw, dict) else None
        start_ns = _stamp_ns(begun) if isinstance(begun, int | float) else None
        evaluated: dict[str, Any] = {}
        started: dict[str, Any] = {}
        aggregated: dict[str, Any] = {}
        for seen in self._seen:
            if seen.round != number:
                continue
            if seen.type in _COMPLETION:
                if _stamp_ns(seen.details.get("timestamp")) == end_ns:
                    evaluated = {**evaluated, **seen.details}
            elif seen.time_ns <= end_ns and (start_ns is None or seen.time_ns >= start_ns - _SLACK_NS):
                if seen.type == "ROUND_STARTED":
                    started = seen.details  # the newest one wins: later in the deque
                else:
                    aggregated = seen.details
        return RoundFacts(started, aggregated, evaluated)
