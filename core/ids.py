"""Event ids: strictly increasing integers, assigned before fan-out so every sink and the store agree.

The sequence starts from the current time in microseconds (and past the store's highest id, should the clock have
gone back), so ids grow across restarts even without a store, and stay below 2**53, safe for JavaScript clients.
"""

from __future__ import annotations

import time


class EventIds:
    """Hands out the next id; :meth:`continue_after` moves the sequence past ids already stored."""

    def __init__(self) -> None:
        self.last = time.time_ns() // 1000

    def continue_after(self, stored_max: int) -> None:
        """Make the next id greater than ``stored_max`` (the store's highest id)."""
        self.last = max(self.last, stored_max)

    def next(self) -> int:
        """Return a new id, greater than every id returned before."""
        self.last += 1
        return self.last
