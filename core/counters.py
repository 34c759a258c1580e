"""Deltas and rates from successive readings of counters that only grow, with counter resets handled.

Network interfaces, disks, switch ports and flow entries all need the same arithmetic: remember the last reading
of each key and turn the next one into deltas over the time between them. A counter that goes backwards, or a
reading whose ``uptime`` went backwards, means the counters restarted (an interface re-created, a switch
rebooted, a flow entry re-installed; a 32-bit wrap looks the same). The delta then says so (``reset``) and holds
the new values themselves, i.e. what moved since the restart, as Prometheus's ``increase()`` counts:

- a *rate* across a reset would be a huge or negative lie: rate callers skip a delta whose ``from_zero`` is set;
- a *volume* (bytes moved in a round) would lose what moved since the restart if skipped: volume callers keep it.

A key seen for the first time has no delta, unless the caller says when the previous reading of the whole source
was taken (``born_after``) and the key's uptime shows it began after that: then everything it counted is new
(``new``), e.g. a flow entry installed between two polls.

:meth:`CounterTracker.delta` has no side effect and :meth:`CounterTracker.remember` moves the baseline, so a poll
cut short by a timeout can simply be repeated; :meth:`CounterTracker.update` does both.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator, Mapping
from typing import Generic, TypeVar

import attrs

K = TypeVar("K", bound=Hashable)


@attrs.frozen
class CounterDelta:
    """What the counters of one key moved between two readings ``elapsed`` apart (in the unit of the readings' time)."""

    deltas: dict[str, float]
    elapsed: float
    #: the counters restarted within the interval; ``deltas`` are their new values (what moved since)
    reset: bool = False
    #: the key began within the interval; ``deltas`` are everything it counted
    new: bool = False

    @property
    def from_zero(self) -> bool:
        """Whether ``deltas`` count from zero (a reset or a new key) rather than from the previous reading."""
        return self.reset or self.new

    def rates(self) -> dict[str, float]:
        """Rates of the deltas per unit of time (per second for readings timed in seconds; meaningless when
        :attr:`from_zero`: callers skip those)."""
        return {name: value / self.elapsed for name, value in self.deltas.items()}


@attrs.frozen
class _Reading:
    counters: dict[str, float]
    at: float
    uptime: float | None


class CounterTracker(Generic[K]):
    """Remembers the last reading of every key (an interface, a switch port, a flow) and turns new ones into deltas.

    ``resets`` counts the restarts :meth:`update` saw (callers of :meth:`delta` count their own, at commit).
    """

    def __init__(self) -> None:
        self._last: dict[K, _Reading] = {}
        self.resets = 0

    def __len__(self) -> int:
        return len(self._last)

    def __contains__(self, key: object) -> bool:
        return key in self._last

    def delta(
        self,
        key: K,
        counters: Mapping[str, float],
        at: float,
        *,
        uptime: float | None = None,
        born_after: float | None = None,
    ) -> CounterDelta | None:
        """The delta of ``counters`` read at time ``at`` since the last reading of ``key``; None when there is
        nothing to compare with, no time passed, or a counter is new.

        ``at`` is on any clock in any unit the caller keeps using (seconds, or int nanoseconds for exact
        intervals); ``elapsed`` and ``born_after`` are in that unit, and so is ``uptime`` when ``born_after`` is
        given (otherwise it is only compared with the key's previous uptime)."""
        previous = self._last.get(key)
        if previous is None:
            if born_after is None or uptime is None or not 0 <= uptime <= at - born_after:
                return None  # first sight of a key that existed before: only a baseline
            return CounterDelta(dict(counters), at - born_after, new=True)
        elapsed = at - previous.at
        if elapsed <= 0 or not counters.keys() <= previous.counters.keys():
            return None
        deltas = {name: value - previous.counters[name] for name, value in counters.items()}
        went_back = previous.uptime is not None and uptime is not None and uptime < previous.uptime
        if went_back or any(value < 0 for value in deltas.values()):
            return CounterDelta(dict(counters), elapsed, reset=True)
        return CounterDelta(deltas, elapsed)

    def remember(self, key: K, counters: Mapping[str, float], at: float, *, uptime: float | None = None) -> None:
        """Make this reading the baseline of ``key``."""
        self._last[key] = _Reading(dict(counters), at, uptime)

    def update(
        self,
        key: K,
        counters: Mapping[str, float],
        at: float,
        *,
        uptime: float | None = None,
        born_after: float | None = None,
    ) -> CounterDelta | None:
        """:meth:`delta`, then :meth:`remember` (and count a reset)."""
        result = self.delta(key, counters, at, uptime=uptime, born_after=born_after)
        if result is not None and result.reset:
            self.resets += 1
        self.remember(key, counters, at, uptime=uptime)
        return result

    def retain(self, keys: Collection[K]) -> None:
        """Forget every key not in ``keys`` (an interface or switch that went away), so memory stays bounded."""
        for key in [k for k in self._last if k not in keys]:
            del self._last[key]

    def __iter__(self) -> Iterator[K]:
        """The keys with a baseline (a copy: forgetting while iterating is fine)."""
        return iter(list(self._last))
