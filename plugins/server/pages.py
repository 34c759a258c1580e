"""A page of a list route: the store's rows in a face's shape, built by the store itself when it can, else here.

A store that implements :class:`JsonRowStore` (the ``sqlite`` store does, from its stored columns) hands back a
page as rows already in a face's shape, whose stored JSON goes into the answer as it is (``orjson.Fragment``): no
stored JSON is parsed and encoded again. Any other store gives records, and the face's own function builds each
row; both give the same bytes (a test compares them). The shapes are ``record`` (the spec API's
:func:`.jsonio.record_json`) and ``dashboard`` (``flcollector.plugins.dashboard.contract``'s ``metric_item`` and
``event_item``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast, runtime_checkable

import attrs
from flcollector import Event, EventQuery, Metric, MetricQuery, Store, implements


@runtime_checkable
class JsonRowStore(Protocol):
    """A store that builds a page of rows ready to encode: ``(rows, highest event id)``, or None for a shape it
    does not know."""

    async def metrics_json(self, query: MetricQuery, shape: str) -> tuple[list[Any], int | None] | None:
        """The metrics of ``query`` as rows of ``shape``."""
        ...

    async def events_json(self, query: EventQuery, shape: str) -> tuple[list[Any], int | None] | None:
        """The events of ``query`` as rows of ``shape``."""
        ...


@attrs.frozen
class Page:
    """The rows of a page, how many, and the highest event id among them."""

    rows: list[Any]
    count: int
    max_id: int | None = None


def _json_rows(store: Store) -> JsonRowStore | None:
    return cast(JsonRowStore, store) if implements(store, JsonRowStore) else None


async def metric_page(store: Store, query: MetricQuery, shape: str, item: Callable[[Metric], Any]) -> Page:
    """The metrics of ``query``, each row as ``item`` builds it (or as the store builds ``shape``)."""
    json_store = _json_rows(store)
    found = await json_store.metrics_json(query, shape) if json_store is not None else None
    if found is not None:
        return Page(found[0], len(found[0]))
    metrics = await store.query_metrics(query)
    return Page([item(m) for m in metrics], len(metrics))


async def event_page(store: Store, query: EventQuery, shape: str, item: Callable[[Event], Any]) -> Page:
    """The events of ``query``, each row as ``item`` builds it (or as the store builds ``shape``)."""
    json_store = _json_rows(store)
    found = await json_store.events_json(query, shape) if json_store is not None else None
    if found is not None:
        return Page(found[0], len(found[0]), found[1])
    events = await store.query_events(query)
    ids = [e.id for e in events if e.id is not None]
    return Page([item(e) for e in events], len(events), max(ids, default=None))
