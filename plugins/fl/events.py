"""Reading the FL server's event buffer exactly once: the ``since_event_id`` cursor plus a bounded memory of ids.

The server answers everything from the start of its buffer when it does not know the cursor (evicted from its
``deque(maxlen=1000)``, or the server restarted), and its ``last_event_id`` names the end of the *buffer*, not of
the page it returned (upstream skipped events past the first 100, reference §2.1). So we page with our own cursor
(the last id of each page) and drop every id already emitted; an already-seen id answered after a cursor means the
server reset the cursor, which is counted. Nothing changes until :meth:`EventBatch.commit`, so a collection
cancelled half-way (timeout) changes no state and loses nothing.
"""

from __future__ import annotations

from typing import Any

import attrs
import httpx
from flcollector import EndpointError, SeenIds

from .listing import get_page


@attrs.define
class EventBatch:
    """New events read in one collection, committed into the feed only once they were handed to the core."""

    feed: EventFeed
    events: list[dict[str, Any]] = attrs.field(factory=list)
    error: EndpointError | None = None  # the page that failed, if one did (the pages before it are kept)
    invalid: int = 0  # events without an id or type: dropped and reported as malformed
    cursor: str | None = None
    reset: bool = False

    @property
    def failed(self) -> bool:
        """True when the endpoint gave nothing usable at all."""
        return self.error is not None and not self.events

    def commit(self) -> None:
        """Remember the events as emitted and move the cursor."""
        self.feed.seen.add_all(event["event_id"] for event in self.events)
        if self.cursor is not None:
            self.feed.cursor = self.cursor
        if self.reset:
            self.feed.resets += 1


class EventFeed:
    """The cursor and the bounded set of event ids already emitted (the oldest are forgotten first)."""

    def __init__(self, capacity: int, page_size: int, max_pages: int) -> None:
        self.page_size, self.max_pages = page_size, max_pages
        self.cursor: str | None = None
        self.resets = 0
        self.seen = SeenIds(capacity)

    async def fetch(self, client: httpx.AsyncClient) -> EventBatch:
        """Read every event after the cursor (paged), skipping ids already emitted; a failed page ends the read."""
        cursor, batch, taken = self.cursor, EventBatch(self), set()
        for _ in range(self.max_pages):
            params: dict[str, Any] = {"limit": self.page_size}
            if cursor:
                params["since_event_id"] = cursor
            try:
                body, page = await get_page(client, "/events", "events", params)
            except EndpointError as exc:
                batch.error = exc
                break
            ids = []
            for raw in page:
                event_id = raw.get("event_id") if isinstance(raw, dict) else None
                if not isinstance(event_id, str) or not isinstance(raw.get("event_type", raw.get("type")), str):
                    batch.invalid += 1
                    continue
                ids.append(event_id)
                if event_id in self.seen or event_id in taken:
                    batch.reset = batch.reset or cursor is not None  # we asked for "after X" and got old ones
                    continue
                taken.add(event_id)
                batch.events.append(raw)
            if not ids or ids[-1] == cursor:
                break  # nothing new (or a server that keeps ignoring the cursor): stop, retry next collection
            cursor = batch.cursor = ids[-1]
            if cursor == body.get("last_event_id") or len(page) < self.page_size:
                break  # caught up with the end of the server's buffer
        return batch
