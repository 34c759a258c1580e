"""Exponential back-off with jitter, for retrying a remote that is down or overloaded.

Each failure doubles the ceiling (``initial``, ``2 * initial``, ... up to ``maximum``) and the wait is drawn from the
upper half of it: never zero (a flapping remote is not hammered), and many agents restarted together spread out
instead of retrying in lock-step.
"""

from __future__ import annotations

import random


class Backoff:
    """Waits between attempts; :meth:`next_delay` after each failure, :meth:`reset` after a success."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self.initial = max(initial, 0.0)
        self.maximum = max(maximum, self.initial)
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self, at_least: float = 0.0) -> float:
        """Return the wait before the next attempt (at least ``at_least``, e.g. a ``Retry-After``), capped."""
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.failures, 62))
        self.failures += 1
        delay = ceiling / 2 + self._rng.uniform(0.0, ceiling / 2)
        return min(max(delay, at_least), self.maximum)

    def reset(self) -> None:
        """Forget past failures (the remote answered)."""
        self.failures = 0
