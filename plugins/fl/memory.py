"""What earlier runs of the collector stored: seeds the round ledger and the event feed at start-up.

The store is the truth (a record counts as stored once a sink wrote it, not once we emitted it), so a crash between
emitting and storing re-fetches rather than loses. Queries are not filtered by experiment on purpose: the FL
server's rounds database outlives a run, and a row stored under an earlier experiment must not be copied again
into a newly configured one.
"""

from __future__ import annotations

from typing import Any

from flcollector import EventQuery, MetricQuery

from .convert import SOURCE
from .events import EventFeed
from .rounds import RoundLedger


async def recall(store: Any, ledger: RoundLedger, feed: EventFeed, limit: int) -> tuple[str, float] | None:
    """Fill ``ledger`` and ``feed`` from ``store``; return (experiment, server start_time) of the last snapshot."""
    for metric in await store.query_metrics(MetricQuery(names=["fl_round"], source=SOURCE, limit=limit)):
        if metric.round is not None:
            ledger.keys.add((metric.round, metric.time_ns))
    events = await store.query_events(EventQuery(source=SOURCE, limit=limit, order="desc"))
    ids = [e.details["event_id"] for e in events if isinstance(e.details.get("event_id"), str)]
    for event_id in reversed(ids):  # oldest first, so the bounded memory keeps the newest
        feed.remember(event_id)
    feed.cursor = ids[0] if ids else None
    snapshots = await store.query_metrics(MetricQuery(names=["fl_server"], source=SOURCE, limit=1))
    if snapshots and snapshots[0].experiment and "server_start_time" in snapshots[0].fields:
        return snapshots[0].experiment, float(snapshots[0].fields["server_start_time"])
    return None
