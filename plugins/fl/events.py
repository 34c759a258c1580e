"""Reading the FL server's event buffer exactly once: the ``since_event_id`` cursor plus a bounded memory of ids.

The server answers everything from the start of its buffer when it does not know the cursor (evicted from its
``deque(maxlen=1000)``, or the server restarted), and its ``last_event_id`` names the end of the *buffer*, not of
the page it returned (upstream skipped events past the first 100, reference §2.1). So we page with our own cursor
(the last id of each page) and drop every id already emitted; an already-seen id answered after a cursor means the
server reset the cursor, which is counted. Nothing changes until :meth:`EventBatch.commit`, so a collection
cancelled half-way (timeout) changes no state and loses nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import attrs

from .client import Answer, FlApi


@attrs.define
class EventBatch:
    """New events read in one collection, committed into the feed only once they were handed to the core."""

    feed: EventFeed
    answer: Answer
    events: list[dict[str, Any]] = attrs.field(factory=list)
    invalid: int = 0  # events without an id or type: dropped and reported as malformed
    cursor: str | None = None
    reset: bool = False

    def commit(self) -> None:
        """Remember the events as emitted and move the cursor."""
        for event in self.events:
            self.feed.remember(event["event_id"])
        if self.cursor is not None:
            self.feed.cursor = self.cursor
        if self.reset:
            self.feed.resets += 1


class EventFeed:
    """The cursor and the bounded set of event ids already emitted (the oldest are forgotten first)."""

    def __init__(self, capacity: int, page_size: int, max_pages: int) -> None:
        self.capacity, self.page_size, self.max_pages = capacity, page_size, max_pages
        self.cursor: str | None = None
        self.resets = 0
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._seen

    def remember(self, event_id: str) -> None:
        """Mark ``event_id`` as emitted."""
        self._seen[event_id] = None
        self._seen.move_to_end(event_id)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)

    async def fetch(self, api: FlApi) -> EventBatch:
        """Read every event after the cursor (paged), skipping ids already emitted."""
        cursor, batch, taken = self.cursor, None, set()
        for _ in range(self.max_pages):
            params: dict[str, Any] = {"limit": self.page_size}
            if cursor:
                params["since_event_id"] = cursor
            answer = await api.get("/events", params)
            if batch is None:
                batch = EventBatch(self, answer)
            if not answer.ok:
                batch.answer = answer
                break
            assert answer.data is not None
            page = answer.data.get("events")
            if not isinstance(page, list):
                batch.answer = Answer("/events", problem="malformed", reason="key 'events' missing or not a list")
                break
            ids = []
            for raw in page:
                event_id = raw.get("event_id") if isinstance(raw, dict) else None
                if not isinstance(event_id, str) or not isinstance(raw.get("event_type", raw.get("type")), str):
                    batch.invalid += 1
                    continue
                ids.append(event_id)
                if event_id in self._seen or event_id in taken:
                    batch.reset = batch.reset or cursor is not None  # we asked for "after X" and got old ones
                    continue
                taken.add(event_id)
                batch.events.append(raw)
            if not ids or ids[-1] == cursor:
                break  # nothing new (or a server that keeps ignoring the cursor): stop, retry next collection
            cursor = batch.cursor = ids[-1]
            if cursor == answer.data.get("last_event_id") or len(page) < self.page_size:
                break  # caught up with the end of the server's buffer
        assert batch is not None
        return batch
