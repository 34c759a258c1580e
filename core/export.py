"""Exporting stored records to files: used by ``flcollector export``/``report``, the export API and scripts.

With a store that streams (:class:`~flcollector.store.BulkStore`, e.g. ``sqlite``) and an exporter that writes
tables (``export_source``: ``csv``, ``parquet``, ``json``, ``jsonl``, ``report``), the export reads and writes in
chunks, so memory stays bounded whatever its size, and aggregation (time buckets per series) runs in the store.
Any other store or exporter gets the whole selection as a list of records (``export(records, path, options)``).
Files written by the CLI belong to the user: the agent never deletes them (the export API's files are another
matter: see the ``export`` plugin).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from .durations import Duration
from .export_tables import ExportSource
from .loader import Registry, load_registry
from .records import Event, Record, now_ns
from .selection import aggregation_for, parse_aggregation
from .store import BulkStore, EventQuery, MetricQuery, Selection, Store

log = logging.getLogger("flcollector.export")
_EPOCH_SECONDS = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")
INT64_MAX = 2**63 - 1  # the latest time a store holds (2262), in ns
PAGE = 10_000  # rows per store query on the list path: bounded memory per page, few round trips
Progress = Callable[[int, int | None], None]


@attrs.frozen
class ExportResult:
    """What an export wrote: the main file, every file (``paths``), and the metric and event rows written."""

    path: Path
    metrics: int
    events: int
    paths: tuple[Path, ...] = ()


def parse_time(text: str, now: int | None = None) -> int:
    """Return epoch nanoseconds for ``text``: ISO 8601 (naive means UTC), ``now``, a bare number of epoch
    seconds, or a duration ago such as ``15m``, ``2h``, ``7d``. Raises ``ValueError`` naming the accepted forms."""
    now = now_ns() if now is None else now
    value = text.strip()
    if value == "now":
        return now
    if _EPOCH_SECONDS.fullmatch(value):
        return _bounded(float(value) * 1e9)
    try:
        return _bounded(now - Duration.parse(value) * 1e9)
    except ValueError:
        pass  # not a duration: try ISO 8601
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"cannot read the time {text!r}: use ISO 8601 (2025-01-31T10:00:00Z), epoch seconds, "
            "'now', or a duration ago like '15m', '2h', '7d'"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return _bounded(int(parsed.timestamp()) * 1_000_000_000 + parsed.microsecond * 1_000)
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset falls off the calendar
        return 0 if parsed.year < 1970 else INT64_MAX


def _bounded(time_ns: float) -> int:
    """A well-formed time a store cannot hold (before 1970, after 2262) moved to that end: it selects nothing (or
    everything) instead of failing in the store."""
    if time_ns >= INT64_MAX:  # compared before int(): float(INT64_MAX) rounds up past it
        return INT64_MAX
    return int(time_ns) if time_ns > 0 else 0


def legacy_selection(
    names: Sequence[str] | None, experiment: str | None, start_ns: int | None, end_ns: int | None,
    include_events: bool,
) -> Selection:
    """The Selection of the older keyword arguments (metric names, and events all or none)."""
    none = None if include_events else ()
    return Selection(metric_names=tuple(names) if names else None, event_sources=none, event_types=none,
                     experiment=experiment, start_ns=start_ns, end_ns=end_ns)


def event_selected(selection: Selection, event: Event) -> bool:
    """True when ``selection``'s event filter (sources or types) keeps ``event``."""
    if selection.event_sources is None and selection.event_types is None:
        return True
    return event.source in (selection.event_sources or ()) or event.type in (selection.event_types or ())


async def collect_records(store: Store, selection: Selection) -> tuple[list[Record], int, int]:
    """Return every selected metric (then event) as records, read in pages; and the two counts. Unbounded: the
    path for stores that do not stream and exporters that want a list."""
    records: list[Record] = []
    names = list(selection.metric_names) if selection.metric_names is not None else None
    metrics = 0
    while selection.wants_metrics:
        page = await store.query_metrics(MetricQuery(
            names=names, experiment=selection.experiment, start_ns=selection.start_ns, end_ns=selection.end_ns,
            limit=PAGE, offset=metrics, order="asc",
        ))
        records += page
        metrics += len(page)
        if len(page) < PAGE:
            break
    offset = events = 0
    while selection.wants_events:
        page_events = await store.query_events(EventQuery(
            experiment=selection.experiment, start_ns=selection.start_ns, end_ns=selection.end_ns,
            limit=PAGE, offset=offset, order="asc",
        ))
        kept = [e for e in page_events if event_selected(selection, e)]
        records += kept
        events += len(kept)
        offset += len(page_events)
        if len(page_events) < PAGE:
            break
    return records, metrics, events


async def export_selection(
    store: Any,
    exporter: Any,
    path: Path,
    selection: Selection,
    *,
    bucket_ns: int | None = None,
    options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write ``selection`` from ``store`` with the ``exporter`` instance to ``path`` (which has its suffix).

    Streams when both sides can; raises ``ValueError`` when aggregation is asked of a store that cannot aggregate.
    """
    opts = dict(options or {})
    if isinstance(store, BulkStore) and hasattr(exporter, "export_source"):
        layout = await store.metric_layout(selection)
        events = await store.count_events_in(selection) if selection.wants_events else 0
        aggregation = aggregation_for(bucket_ns, [field.key for field in layout.fields])
        source = ExportSource(store, selection, layout, events, aggregation, progress)
        paths = list(await exporter.export_source(source, path, opts))
        return ExportResult(paths[0], source.written["metrics"], source.written["events"], tuple(paths))
    if bucket_ns is not None:
        raise ValueError(f"the store {type(store).__name__} cannot aggregate: export raw, or use the sqlite store")
    records, metrics, events = await collect_records(store, selection)
    if progress is not None:
        progress(metrics + events, metrics + events)
    written = await exporter.export(records, path, opts)
    return ExportResult(written, metrics, events, (written,))


def find_exporter(registry: Registry, name: str) -> Any:
    """Return the exporter class called ``name``; raise ``ValueError`` listing the known ones."""
    cls = registry.get("exporter", name)
    if cls is None:
        raise ValueError(f"unknown export format {name!r}; known: {', '.join(registry.names('exporter'))}")
    return cls


async def export_records(
    source: Any,
    exporter_name: str,
    path: str | Path,
    *,
    names: Sequence[str] | None = None,
    experiment: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    include_events: bool = True,
    options: dict[str, Any] | None = None,
    registry: Registry | None = None,
    selection: Selection | None = None,
    aggregation: str | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Query ``source`` (a running Agent, or any :class:`Store`) and write the result with ``exporter_name``.

    ``selection`` replaces the name/experiment/time/events arguments when given; ``aggregation`` is ``raw`` or a
    bucket such as ``1m``/``1h``. ``path`` without a suffix gets the exporter's (``run`` becomes ``run.csv``).
    Raises ``ValueError`` for an unknown exporter, a bad option or aggregation, ``RuntimeError`` when the agent
    has no store.
    """
    store = source.store if hasattr(source, "registry") else source
    registry = registry or getattr(source, "registry", None) or load_registry()
    if store is None:
        raise RuntimeError("no store is configured: add [[sinks.sqlite]] to the config")
    cls = find_exporter(registry, exporter_name)
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(cls.suffix)
    chosen = selection or legacy_selection(names, experiment, start_ns, end_ns, include_events)
    result = await export_selection(store, cls(), target, chosen, bucket_ns=parse_aggregation(aggregation),
                                    options=options, progress=progress)
    log.info("exported %d metric rows and %d event rows to %s", result.metrics, result.events, result.path)
    return result


async def latest_experiment(store: Any) -> str | None:
    """Return the experiment with the newest record in ``store`` (None when nothing names one)."""
    found = await store.experiments() if isinstance(store, BulkStore) else []
    return found[-1]["experiment"] if found else None
