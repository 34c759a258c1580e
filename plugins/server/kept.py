"""Rendered answers kept while the store's version of the records they were built from stands.

A route whose answer is built from every stored row of a few metric names (``/api/v1/fl/metrics``: every round of
the experiment) is polled every few seconds, while those rows change once a round. With a store that keeps
versions (``flcollector.VersionedStore``: ``sqlite`` does), the rendered answer is kept under the version taken
before it was built and given again while the version stands: a poll between two rounds reads and allocates
nothing, where it would otherwise fold and encode thousands of rounds (and leave a bigger hole in the heap after
every round: issue 13, item 7). Without a version nothing is kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable

#: Questions kept at most (a question is a route's parameters): a client that changes its window on every poll
#: costs this many answers, not one per poll.
CAPACITY = 4


class KeptAnswers:
    """Rendered answers by question, each kept with the store version it was built at."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._kept: dict[Hashable, tuple[Hashable, bytes]] = {}
        self.hits = 0  # answers given as kept
        self.builds = 0  # answers built

    async def get(self, key: Hashable, version: Hashable | None, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """The answer to ``key`` at ``version``: as kept, else ``await build()`` (kept unless ``version`` is None).

        ``version`` is taken before building, so what is built is at least that new; an answer kept under an
        older version than the one current when it was built is only ever given again while that version is
        current, and is then new enough."""
        if version is not None:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == version:
                self.hits += 1
                return kept[1]
        self.builds += 1
        body = await build()
        if version is not None:
            self._kept.pop(key, None)
            if len(self._kept) >= self.capacity:  # the question kept longest goes first
                del self._kept[next(iter(self._kept))]
            self._kept[key] = (version, body)
        return body

    def clear(self) -> None:
        """Forget every kept answer (the next question of each is built)."""
        self._kept.clear()
