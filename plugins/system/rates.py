"""CPU shares from two readings of ``psutil.cpu_times()``.

A pure function (no psutil, no clock), tested with synthetic readings. Rates of the other counters (network and
disk I/O) come from :class:`flcollector.CounterTracker`, which every monitor shares.
"""

from __future__ import annotations

from collections.abc import Mapping

Counters = Mapping[str, float]


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
