"""What earlier runs of the collector stored: seeds the round ledger, the event feed and the round events at start.

The store is the truth (a record counts as stored once a sink wrote it, not once we emitted it), so a crash between
emitting and storing re-fetches rather than loses. Queries are not filtered by experiment on purpose: the FL
server's rounds database outlives a run, and a row stored under an earlier experiment must not be copied again
into a newly configured one.
"""

from __future__ import annotations

from typing import Any

from flcollector import Event, EventQuery, MetricQuery

from .convert import SOURCE
from .events import EventFeed
from .round_events import RoundEvents
from .rounds import RoundLedger


def _origin(event: Event) -> tuple[str | None, dict[str, Any]]:
    """The FL server's id of a stored event and its details; an event stored before ``origin_id`` existed kept
    the server's whole event as its details."""
    if event.origin_id is not None:
        return event.origin_id, dict(event.details)
    envelope = event.details
    if isinstance(envelope.get("event_id"), str):
        inner = envelope.get("details")
        return envelope["event_id"], dict(inner) if isinstance(inner, dict) else {}
    return None, dict(envelope)


async def recall(
    store: Any, ledger: RoundLedger, feed: EventFeed, round_events: RoundEvents, limit: int
) -> tuple[str, float] | None:
    """Fill the ledger, the feed and the round events from ``store``; return (experiment, server start_time) of the
    last snapshot."""
    for metric in await store.query_metrics(MetricQuery(names=["fl_round"], source=SOURCE, limit=limit)):
        if metric.round is not None:
            ledger.keys.add((metric.round, metric.time_ns))
    events = await store.query_events(EventQuery(source=SOURCE, limit=limit, order="desc"))
    ids: list[str] = []
    for event in reversed(events):  # oldest first, so the bounded memories keep the newest
        origin, details = _origin(event)
        if origin is not None:
            ids.append(origin)
            round_events.add([(event.type, event.round, event.time_ns, details)])
    feed.seen.add_all(ids)
    feed.cursor = ids[-1] if ids else None
    snapshots = await store.query_metrics(MetricQuery(names=["fl_server"], source=SOURCE, limit=1))
    if snapshots and snapshots[0].experiment and "server_start_time" in snapshots[0].fields:
        return snapshots[0].experiment, float(snapshots[0].fields["server_start_time"])
    return None
