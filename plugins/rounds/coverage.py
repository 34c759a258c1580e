"""How much of what each monitor should have collected in a window it did collect.

Expected: one collection per ``interval`` over the window. Missed: the time its source was down (from
``SOURCE_UNREACHABLE`` to ``SOURCE_RECOVERED``, as the core reports them), the time the agent itself was not running
(``AGENT_STARTED`` says since when nothing was stored), and one interval per collection that failed outright (the
core's ``MALFORMED_RESPONSE`` or ``PLUGIN_ERROR``; a single endpoint's error is not a failed collection).
Coverage is ``1 - missed / window``, between 0 and 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flcollector import Event

FAILED_COLLECTION = frozenset({"MALFORMED_RESPONSE", "PLUGIN_ERROR"})
OUTAGE_EVENTS = frozenset({"SOURCE_UNREACHABLE", "SOURCE_RECOVERED", *FAILED_COLLECTION, "AGENT_STARTED"})


class Coverage:
    """Outages per monitor instance and the agent's own gaps; see the module docstring."""

    def __init__(self) -> None:
        self.outages: dict[str, list[list[Any]]] = {}  # monitor -> [[from, to or None]]
        self.failures: dict[str, list[int]] = {}
        self.gaps: list[tuple[int, int]] = []  # the agent was not running

    def read(self, event: Event) -> None:
        """Take one event (those of :data:`OUTAGE_EVENTS`; others are ignored)."""
        monitor = event.details.get("monitor")
        if event.type == "AGENT_STARTED":
            previous, started = event.details.get("previous_record_ns"), event.details.get("started_ns")
            if isinstance(previous, int) and isinstance(started, int) and started > previous:
                self.agent_gap(previous, started)
            return
        if not isinstance(monitor, str):
            return
        if event.type == "SOURCE_UNREACHABLE":
            spans = self.outages.setdefault(monitor, [])
            if not spans or spans[-1][1] is not None:
                spans.append([event.time_ns, None])
        elif event.type == "SOURCE_RECOVERED":
            down = self.outages.get(monitor)
            if down and down[-1][1] is None:
                down[-1][1] = event.time_ns
        elif event.type in FAILED_COLLECTION and "endpoint" not in event.details:
            self.failures.setdefault(monitor, []).append(event.time_ns)

    def agent_gap(self, since_ns: int, until_ns: int) -> None:
        """Nothing ran from ``since_ns`` to ``until_ns``; outages still open then ended with the agent."""
        self.gaps.append((since_ns, until_ns))
        for spans in self.outages.values():
            if spans and spans[-1][1] is None:
                spans[-1][1] = max(spans[-1][0] or since_ns, since_ns)

    def of(self, monitors: Mapping[str, float], start_ns: int, end_ns: int) -> dict[str, float]:
        """Coverage (0-1) of each monitor (instance -> interval in seconds) over ``[start_ns, end_ns]``."""
        window = end_ns - start_ns
        out: dict[str, float] = {}
        for monitor, interval in monitors.items():
            if window <= 0:
                continue
            spans = [(a, b if b is not None else end_ns) for a, b in self.outages.get(monitor, [])]
            missed = _covered([*spans, *self.gaps], start_ns, end_ns)
            failed = sum(1 for t in self.failures.get(monitor, []) if start_ns <= t <= end_ns)
            missed += failed * int(interval * 1e9)
            out[monitor] = max(0.0, min(1.0, 1.0 - missed / window))
        return out

    def prune(self, before_ns: int) -> None:
        """Forget what ended before ``before_ns`` (no window that old is still open)."""
        for monitor, spans in self.outages.items():
            self.outages[monitor] = [s for s in spans if s[1] is None or s[1] >= before_ns]
        for monitor, times in self.failures.items():
            self.failures[monitor] = [t for t in times if t >= before_ns]
        self.gaps = [g for g in self.gaps if g[1] >= before_ns]


def _covered(spans: list[tuple[int | None, int]], start_ns: int, end_ns: int) -> int:
    """Nanoseconds of ``[start_ns, end_ns]`` inside the union of ``spans``."""
    clipped = sorted((max(a or start_ns, start_ns), min(b, end_ns)) for a, b in spans)
    clipped = [(a, b) for a, b in clipped if b > a]  # a span outside the window covers none of it
    total, reach = 0, start_ns
    for a, b in clipped:
        if b <= reach:
            continue
        total += b - max(a, reach)
        reach = b
    return total
