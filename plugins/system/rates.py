"""Counter arithmetic: rates per second from two readings of monotonically increasing counters, and CPU shares.

Pure functions (no psutil, no clock), so they are tested with synthetic counters, including resets.
"""

from __future__ import annotations

from collections.abc import Mapping

Counters = Mapping[str, float]


def counter_rates(previous: Counters, current: Counters, elapsed_s: float) -> dict[str, float] | None:
    """Return ``{key: (current - previous) / elapsed_s}`` for every key of ``current``.

    Returns ``None`` (skip this sample) when no time has passed, a key is new, or any counter went backwards: a
    negative delta means the counter was reset (interface re-created, driver reload) or a 32-bit counter wrapped,
    and a rate computed across it would be a huge or negative lie.
    """
    if elapsed_s <= 0:
        return None
    rates: dict[str, float] = {}
    for key, value in current.items():
        if key not in previous:
            return None
        delta = value - previous[key]
        if delta < 0:
            return None
        rates[key] = delta / elapsed_s
    return rates


class RateTracker:
    """Remembers the last counters per key (an interface, a disk) and turns each new reading into rates."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, dict[str, float]]] = {}

    def update(self, key: str, counters: Counters, at_s: float) -> dict[str, float] | None:
        """Store ``counters`` read at monotonic time ``at_s``; return rates since the previous reading or None."""
        previous = self._last.get(key)
        self._last[key] = (at_s, dict(counters))
        if previous is None:  # first reading of this key: nothing to compare with yet
            return None
        return counter_rates(previous[1], counters, at_s - previous[0])

    def retain(self, keys: set[str]) -> None:
        """Forget keys not in ``keys`` (an interface that disappeared), so memory stays bounded."""
        for key in set(self._last) - keys:
            del self._last[key]


def cpu_shares(previous: Counters, current: Counters) -> dict[str, float] | None:
    """Return CPU usage in percent between two ``psutil.cpu_times()`` readings (as dicts), or None.

    Fields: ``usage_percent`` (everything but idle and iowait), ``user_percent``, ``system_percent``,
    ``iowait_percent``. On Linux ``guest`` time is already counted in ``user`` (and ``guest_nice`` in ``nice``),
    so both are subtracted from the total, as psutil does. Single fields may step back slightly (iowait is known
    to), so negative field deltas count as zero; a total that did not advance gives None.
    """
    deltas = {key: max(0.0, current[key] - previous.get(key, 0.0)) for key in current}
    total = sum(deltas.values()) - deltas.get("guest", 0.0) - deltas.get("guest_nice", 0.0)
    if total <= 0:
        return None
    idle = deltas.get("idle", 0.0) + deltas.get("iowait", 0.0)

    def share(value: float) -> float:
        return round(min(100.0, max(0.0, 100.0 * value / total)), 3)

    return {
        "usage_percent": share(total - idle),
        "user_percent": share(deltas.get("user", 0.0) - deltas.get("guest", 0.0)),
        "system_percent": share(deltas.get("system", 0.0)),
        "iowait_percent": share(deltas.get("iowait", 0.0)),
    }
