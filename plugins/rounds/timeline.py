"""When each FL round ran: its window on the wall clock, from the FL server's own times.

A round's window runs from its start (``ROUND_STARTED``'s ``round_start_time``, else the round's end minus its
duration) to its end (the ``fl_round`` row's timestamp, or ``ROUND_COMPLETED``'s). Records are placed in rounds by
time, not by the run context's round stamp: the FL server moves ``current_round`` only at aggregation, so the
stamp of a port counter read while round 7's clients trained says 6. Time between two windows (a pause, waiting
for clients) belongs to no round.

The FL monitor learns of a round's start and end one poll late, or (a server that logs a round only when it
ended, as the emulator does) all at once at its end; so a record is placed only once the timeline is
*determined* up to its time: up to the newest end, or the start of a round still running.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs
from flcollector import Event, Metric, Record

#: Windows remembered (older ones are final and their records long placed).
KEEP_WINDOWS = 256


@attrs.define(eq=False)
class Window:
    """One round's window; ``end_ns`` is None while it runs."""

    experiment: str | None
    round: int
    start_ns: int
    end_ns: int | None = None
    final: bool = False  # its last row was emitted; records that still arrive for it are late

    def contains(self, time_ns: int) -> bool:
        """Whether ``time_ns`` falls in the window (a running window is open-ended)."""
        return self.start_ns <= time_ns and (self.end_ns is None or time_ns <= self.end_ns)

    def overlap(self, t0: int, t1: int) -> int:
        """Nanoseconds of ``[t0, t1]`` inside the window."""
        end = t1 if self.end_ns is None else min(t1, self.end_ns)
        return max(0, end - max(t0, self.start_ns))


class Timeline:
    """The windows of the rounds seen, in start order; see the module docstring."""

    def __init__(self) -> None:
        self.windows: list[Window] = []
        self.determined_ns: int | None = None  # every time up to this is placed for good

    def __iter__(self) -> Iterator[Window]:
        return iter(self.windows)

    def find(self, experiment: str | None, round_: int, before_ns: int | None = None) -> Window | None:
        """The newest window of ``(experiment, round)`` (starting at or before ``before_ns`` when given)."""
        for window in reversed(self.windows):
            same = window.experiment == experiment and window.round == round_
            if same and (before_ns is None or window.start_ns <= before_ns):
                return window
        return None

    def started(self, experiment: str | None, round_: int, start_ns: int) -> Window:
        """Round ``round_`` started at ``start_ns`` (again: the same window when it is still open or that recent)."""
        window = self.find(experiment, round_)
        if window is not None and (window.end_ns is None or window.end_ns >= start_ns):
            window.start_ns = min(window.start_ns, start_ns)
        else:
            latest = self.running()
            if latest is not None and latest.start_ns < start_ns:
                latest.end_ns = start_ns  # it never completed: it ended when the next round began
            window = self._add(Window(experiment, round_, start_ns))
        self._determine(start_ns)
        return window

    def ended(self, experiment: str | None, round_: int, end_ns: int, start_ns: int | None) -> Window:
        """Round ``round_`` ended at ``end_ns``; ``start_ns`` is its start when its start was not seen."""
        window = self.find(experiment, round_, before_ns=end_ns)
        if window is None or (window.end_ns is not None and window.end_ns < (start_ns or end_ns)):
            window = self._add(Window(experiment, round_, start_ns if start_ns is not None else end_ns))
        window.end_ns = end_ns
        self._determine(end_ns)
        return window

    def read(self, record: Record) -> Window | None:
        """The window an FL record starts or ends (``ROUND_STARTED``, ``ROUND_COMPLETED``, ``fl_round``), or None."""
        if isinstance(record, Metric):
            if record.name != "fl_round" or not isinstance(record.round, int):
                return None
            total = _seconds(record.fields, "total_duration_s", _seconds(record.fields, "training_duration_s"))
            return self.ended(record.experiment, record.round, record.time_ns, _before(record.time_ns, total))
        if not isinstance(record, Event) or record.type not in ("ROUND_STARTED", "ROUND_COMPLETED"):
            return None
        round_ = record.details.get("round", record.round)
        if not isinstance(round_, int) or isinstance(round_, bool):
            return None
        if record.type == "ROUND_COMPLETED":
            total = _seconds(record.details, "total_round_duration")
            return self.ended(record.experiment, round_, record.time_ns, _before(record.time_ns, total))
        start = _seconds(record.details, "round_start_time")  # epoch seconds, logged when the round began
        configuring = _seconds(record.details, "config_duration") or 0.0
        start_ns = int(start * 1e9) if start is not None else record.time_ns - int(configuring * 1e9)
        return self.started(record.experiment, round_, start_ns)

    def _add(self, window: Window) -> Window:
        self.windows.append(window)
        self.windows.sort(key=lambda w: w.start_ns)
        if len(self.windows) > KEEP_WINDOWS:
            del self.windows[: len(self.windows) - KEEP_WINDOWS]
        return window

    def _determine(self, time_ns: int) -> None:
        if self.determined_ns is None or time_ns > self.determined_ns:
            self.determined_ns = time_ns

    def running(self) -> Window | None:
        """The newest window, when it has not ended."""
        return self.windows[-1] if self.windows and self.windows[-1].end_ns is None else None

    def place(self, t0: int, t1: int) -> list[tuple[Window | None, float]]:
        """Split the interval ``[t0, t1]`` (a point when equal) over the windows: ``(window, share)`` pairs whose
        shares add up to 1, ``None`` for the share that fell between rounds."""
        if t1 <= t0:
            for window in reversed(self.windows):
                if window.contains(t1):
                    return [(window, 1.0)]
                if window.end_ns is not None and window.end_ns < t1:
                    break
            return [(None, 1.0)]
        span = t1 - t0
        shares: list[tuple[Window | None, float]] = []
        placed = 0
        for window in reversed(self.windows):
            if window.end_ns is not None and window.end_ns < t0:
                break
            inside = window.overlap(t0, t1)
            if inside > 0:
                shares.append((window, inside / span))
                placed += inside
        if placed < span:
            shares.append((None, (span - placed) / span))
        return shares


def _seconds(values: Mapping[str, Any], key: str, default: float | None = None) -> float | None:
    value = values.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _before(time_ns: int, seconds: float | None) -> int | None:
    return time_ns - int(seconds * 1e9) if seconds is not None else None
