"""A page of FL rounds (the newest stored row of each round), chosen and paged by the store when it can.

A store that implements :class:`RoundStore` (the ``sqlite`` store does) picks the newest row per round, counts the
rounds and reads only the page's rows. Any other store, and a store whose scope holds more rows than
:data:`~.data.SCAN_LIMIT` (where :func:`~.rounds.load_rounds` reads only the newest of them), goes through
:func:`~.rounds.load_rounds`, which reads every round and dedupes in Python; both give the same page
(``tests/plugins/dashboard/test_dashboard_round_pages.py`` compares them).
"""

from __future__ import annotations

from typing import Literal, Protocol, cast, runtime_checkable

import attrs
from flcollector import Metric, MetricQuery, Store, implements

from .data import DataView
from .rounds import RoundFilter, load_rounds


@runtime_checkable
class RoundStore(Protocol):
    """A store that pages the newest stored metric of each round itself (see the sqlite store's method)."""

    async def newest_per_round(
        self,
        scope: MetricQuery,
        *,
        min_round: int | None = None,
        max_round: int | None = None,
        after_ns: int | None = None,
        order: Literal["asc", "desc"] = "asc",
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Metric], int, int | None] | None:
        """``(page, rounds selected, highest round in scope)``, or None when ``scope`` holds over ``scope.limit``
        rows with a round."""
        ...


@attrs.frozen
class RoundWindow:
    """Which of the loaded rounds to serve: a round range, "stored after", the order (by round) and the page."""

    min_round: int | None = None
    max_round: int | None = None
    after_ns: int | None = None  # only rounds whose newest row is later than this
    order: Literal["asc", "desc"] = "asc"
    offset: int = 0
    limit: int = 100


@attrs.frozen
class RoundPage:
    """The page's rounds, how many rounds the window selects, and the highest round loaded (0 when none)."""

    rounds: list[Metric]
    total: int
    latest_round: int


def _round_store(store: Store | None) -> RoundStore | None:
    return cast(RoundStore, store) if store is not None and implements(store, RoundStore) else None


async def round_page(view: DataView, where: RoundFilter, window: RoundWindow) -> RoundPage:
    """The rounds :func:`~.rounds.load_rounds` loads for ``where``, narrowed to ``window`` and paged."""
    store = _round_store(view.store)
    if store is not None:
        found = await store.newest_per_round(
            where.query(),
            min_round=window.min_round,
            max_round=window.max_round,
            after_ns=window.after_ns,
            order=window.order,
            offset=window.offset,
            limit=window.limit,
        )
        if found is not None:
            return RoundPage(found[0], found[1], found[2] or 0)
    return select_rounds(await load_rounds(view, where), window)


def select_rounds(rounds: list[Metric], window: RoundWindow) -> RoundPage:
    """The page of ``window`` over ``rounds`` (one metric per round, ascending), in Python."""
    low, high, after = window.min_round, window.max_round, window.after_ns
    rows = [
        m
        for m in rounds
        if (low is None or (m.round or 0) >= low)
        and (high is None or (m.round or 0) <= high)
        and (after is None or m.time_ns > after)
    ]
    if window.order == "desc":
        rows.reverse()
    latest = rounds[-1].round or 0 if rounds else 0
    return RoundPage(rows[window.offset : window.offset + window.limit], len(rows), latest)
