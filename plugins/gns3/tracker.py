"""The configuration last seen per link, shared by the poll and the notification stream so each change is reported
once, by whichever sees it first.

A poll answer can be older than a stream message that arrived while the poll was in flight; comparing it would
report the change backwards and then forwards again. So a poll only judges a link whose last change it could have
seen: one announced before the poll's requests were sent (``asked_ns``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

Via = Literal["poll", "stream"]


@attrs.define
class Seen:
    """What a link was configured to do the last time it was seen, and since when."""

    filters: Mapping[str, list[Any]]
    suspend: bool
    seen_ns: int  # the last time this configuration was observed
    changed_ns: int  # when it was first observed (the change's time)


@attrs.frozen
class Change:
    """A link's configuration changed between ``since_ns`` (last seen as before) and ``at_ns`` (seen as after)."""

    link_id: str
    before: Seen
    after: Seen
    via: Via


class LinkTracker:
    """Per link: the configuration last seen. Per project: the status last seen."""

    def __init__(self) -> None:
        self.links: dict[str, Seen] = {}
        self.status: str | None = None

    def observe(
        self, link_id: str, filters: Mapping[str, list[Any]], suspend: bool, at_ns: int, via: Via,
        asked_ns: int | None = None,
    ) -> Change | None:
        """Record one observation; return the Change when it differs from the last one (never on the first)."""
        known = self.links.get(link_id)
        if known is not None and asked_ns is not None and asked_ns < known.changed_ns:
            return None  # this answer may predate a change the stream already reported
        if known is not None and known.filters == filters and known.suspend == suspend:
            known.seen_ns = max(known.seen_ns, at_ns)
            return None
        now = Seen(dict(filters), suspend, at_ns, at_ns)
        self.links[link_id] = now
        return None if known is None else Change(link_id, known, now, via)

    def current(self, link_id: str) -> Seen | None:
        """The configuration last seen for ``link_id``."""
        return self.links.get(link_id)

    def forget_except(self, link_ids: set[str]) -> None:
        """Drop links that no longer exist (a link deleted and re-created is a new baseline)."""
        for link_id in set(self.links) - link_ids:
            del self.links[link_id]

    def observe_status(self, status: str) -> bool:
        """Record the project's status; True when it just became ``closed`` (also on the first observation)."""
        closed_now = status == "closed" and self.status != "closed"
        self.status = status
        return closed_now
