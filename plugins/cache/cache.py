"""The ``cache`` sink: the most recent records per metric name and per event type, in memory.

It answers "latest" and WebSocket backfill instantly, without touching the store. Each key keeps a bounded deque
(``max_per_name``); when more than ``max_names`` keys exist, the key updated least recently is evicted (counted as
``evicted_names``). All keys together keep at most ``max_records`` records: beyond it, the keys updated least recently
give up their older records first (each keeps at least its latest), so memory is bounded by records, whatever the
number of names (issue 13: 1,000 per name for ~50 names was ~100 MiB, filling for half an hour of a steady run).
Metrics are keyed by ``name`` and events by ``type`` in two separate key spaces; lookups without
``kind`` try metrics first, then events. Everything runs on the Trio thread: a write is a few deque appends.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Any, Literal

import attrs
from flcollector import Metric, Record, Sink, option_doc

Kind = Literal["metric", "event"]


@attrs.define
class CacheOptions:
    """Options of the ``cache`` sink."""

    # 10, not more: the built-in readers ask only for the latest, and a name that arrives once a minute takes
    # max_per_name minutes to fill its deque, so the cache's memory grows for that long (issue 13's soak).
    max_per_name: int = attrs.field(default=10, validator=attrs.validators.gt(0), metadata=option_doc(
        "records kept per metric name / event type"))
    max_names: int = attrs.field(default=10_000, validator=attrs.validators.gt(0), metadata=option_doc(
        "metric names plus event types kept; beyond it the least recently updated one is evicted"))
    max_records: int = attrs.field(default=10_000, validator=attrs.validators.gt(0), metadata=option_doc(
        "records kept in all; beyond it the names updated least recently lose their older records (each keeps its "
        "latest), so memory is bounded whatever the number of names"))


class RecentCache(Sink):
    """Bounded recent records per metric name / event type, for the server's instant answers."""

    name = "cache"
    Options = CacheOptions

    def __init__(self, options: CacheOptions, runtime: Any) -> None:
        super().__init__(options, runtime)
        # Oldest-updated key first, so eviction pops from the front.
        self._order: OrderedDict[tuple[Kind, str], deque[Record]] = OrderedDict()
        self.evicted_names = 0
        self.records = 0  # held in all deques together

    async def write(self, batch: Sequence[Record]) -> None:
        """Append ``batch`` to the deques of its names and types (no I/O, no await)."""
        order, limit = self._order, self.options.max_per_name
        touched: dict[tuple[Kind, str], None] = {}
        for record in batch:
            key: tuple[Kind, str] = ("metric", record.name) if isinstance(record, Metric) else ("event", record.type)
            records = order.get(key)
            if records is None:
                records = order[key] = deque(maxlen=limit)
            self.records += len(records) < limit  # a full deque drops its oldest as it takes the new one
            records.append(record)
            touched[key] = None
        for key in touched:  # once per key and batch, not per record
            order.move_to_end(key)
        excess = len(order) - self.options.max_names
        if excess > 0:
            self._evict_names(excess)
        if self.records > self.options.max_records:
            self._trim(self.options.max_records * 9 // 10)  # a tenth below, so trimming is rare
        self.runtime.stats.extra["cache"] = {
            "names": len(order), "records": self.records, "evicted_names": self.evicted_names
        }

    def _evict_names(self, count: int) -> None:
        """Drop the ``count`` keys updated least recently, with their records."""
        for _ in range(count):
            _, records = self._order.popitem(last=False)
            self.records -= len(records)
        self.evicted_names += count
        self.runtime.stats.count("evicted_names", count)

    def _trim(self, target: int) -> None:
        """Hold at most ``target`` records: older records of the least recently updated keys go first (each key
        keeps its latest); only if that is not enough, whole keys go."""
        for records in self._order.values():
            if self.records <= target:
                return
            drop = min(len(records) - 1, self.records - target)
            for _ in range(drop):
                records.popleft()
            self.records -= drop
        if self.records > target:
            self._evict_names(self.records - target)

    def _records(self, name: str, kind: Kind | None) -> deque[Record] | None:
        if kind is not None:
            return self._order.get((kind, name))
        found = self._order.get(("metric", name))
        return found if found is not None else self._order.get(("event", name))

    def latest(self, name: str, kind: Kind | None = None) -> Record | None:
        """Return the record of ``name`` (metric name or event type) that arrived last, or None."""
        records = self._records(name, kind)
        return records[-1] if records else None

    def recent(self, name: str, limit: int | None = None, kind: Kind | None = None) -> list[Record]:
        """Return the last ``limit`` records of ``name`` (all kept when None), oldest first."""
        records = self._records(name, kind)
        if not records:
            return []
        if limit is None or limit >= len(records):
            return list(records)
        if limit <= 0:
            return []
        newest_first = list(itertools.islice(reversed(records), limit))
        return newest_first[::-1]

    def since(self, name: str, time_ns: int, kind: Kind | None = None) -> list[Record]:
        """Return the records of ``name`` stamped strictly after ``time_ns``, oldest first (for backfill)."""
        records = self._records(name, kind)
        return [r for r in records if r.time_ns > time_ns] if records else []

    def names(self, kind: Kind | None = None) -> list[str]:
        """Return the metric names and/or event types cached, sorted (without duplicates)."""
        return sorted({name for (k, name) in self._order if kind is None or k == kind})
