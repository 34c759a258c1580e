"""Exporting stored records to files: used by ``flcollector export`` and by code that holds an agent or a store.

The store is read page by page (in time order for metrics, id order for events) and the whole selection is handed
to one exporter (``json``, ``csv``, ``parquet``, ``notebook`` or a plugin's). Exports are files the user owns: the
spec's ``EXPORT_RETENTION_DAYS`` (default 7) is the age after which a deployment may delete them, e.g. with
``find exports/ -mtime +7 -delete``; the agent itself never deletes an export.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from .components import Runtime
from .config import ComponentConfig, Config, load_config
from .context import RunContext
from .durations import Duration
from .errors import FlcollectorError
from .loader import Registry, load_registry
from .records import Record, now_ns
from .stats import StatsRegistry
from .store import EventQuery, MetricQuery, Store

log = logging.getLogger("flcollector.export")
_EPOCH_SECONDS = re.compile(r"\d+(\.\d+)?")
PAGE = 10_000  # rows per store query: bounded memory per page, few round trips


@attrs.frozen
class ExportResult:
    """What an export wrote."""

    path: Path
    metrics: int
    events: int


def parse_time(text: str, now: int | None = None) -> int:
    """Return epoch nanoseconds for ``text``: ISO 8601 (naive means UTC), ``now``, a bare number of epoch
    seconds, or a duration ago such as ``15m``, ``2h``, ``7d``. Raises ``ValueError`` naming the accepted forms."""
    now = now_ns() if now is None else now
    value = text.strip()
    if value == "now":
        return now
    if _EPOCH_SECONDS.fullmatch(value):
        return int(float(value) * 1e9)
    try:
        return now - int(Duration.parse(value) * 1e9)
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
    return int(parsed.timestamp()) * 1_000_000_000 + parsed.microsecond * 1_000


async def collect_records(
    store: Store,
    *,
    names: Sequence[str] | None = None,
    experiment: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    include_events: bool = True,
) -> tuple[list[Record], int, int]:
    """Return every stored metric (then event) matching the filters, read in pages; and the two counts."""
    records: list[Record] = []
    offset = 0
    while True:
        query = MetricQuery(
            names=list(names) if names else None,
            experiment=experiment,
            start_ns=start_ns,
            end_ns=end_ns,
            limit=PAGE,
            offset=offset,
            order="asc",
        )
        page = await store.query_metrics(query)
        records += page
        offset += len(page)
        if len(page) < PAGE:
            break
    metrics = offset
    offset = 0
    while include_events:
        events = await store.query_events(
            EventQuery(experiment=experiment, start_ns=start_ns, end_ns=end_ns, limit=PAGE, offset=offset, order="asc")
        )
        records += events
        offset += len(events)
        if len(events) < PAGE:
            break
    return records, metrics, offset


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
) -> ExportResult:
    """Query ``source`` (a running Agent, or any :class:`Store`) and write the result with ``exporter_name``.

    ``path`` without a suffix gets the exporter's (``run`` becomes ``run.csv``). Raises ``ValueError`` for an
    unknown exporter or bad options, ``RuntimeError`` when the agent has no store.
    """
    store = source.store if hasattr(source, "registry") else source
    registry = registry or getattr(source, "registry", None) or load_registry()
    if store is None:
        raise RuntimeError("no store is configured: add [[sinks.sqlite]] to the config")
    cls: Any = registry.get("exporter", exporter_name)
    if cls is None:
        raise ValueError(f"unknown export format {exporter_name!r}; known: {', '.join(registry.names('exporter'))}")
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(cls.suffix)
    records, metrics, events = await collect_records(
        store, names=names, experiment=experiment, start_ns=start_ns, end_ns=end_ns, include_events=include_events
    )
    written = await cls().export(records, target, dict(options or {}))
    log.info("exported %d metrics and %d events to %s", metrics, events, written)
    return ExportResult(written, metrics, events)


def store_config(config: Config) -> ComponentConfig:
    """Return the first configured sink that answers queries; raise ``FlcollectorError`` when there is none."""
    for cfg in config.of_kind("sink"):
        if all(callable(getattr(cfg.cls, m, None)) for m in ("query_metrics", "query_events")):
            return cfg
    raise FlcollectorError(
        f"{config.file}: no store is configured (add [[sinks.sqlite]]), so there is nothing to export"
    )


def open_store(config: Config, cfg: ComponentConfig) -> Any:
    """Build the store component as the agent would, but outside any pipeline (read-only where it supports it)."""
    options = cfg.options
    if "read_only" in attrs.fields_dict(type(options)):
        options = attrs.evolve(options, read_only=True)
    runtime = Runtime(
        instance=cfg.instance,
        plugin=cfg.plugin,
        log=logging.getLogger(f"flcollector.sink.{cfg.instance}"),
        stats=StatsRegistry().register("sink", cfg.instance, cfg.plugin),
        context=RunContext(),
        data_dir=Path(config.agent.data_dir),
    )
    return cfg.cls(options, runtime)


def main(
    config_path: str | None,
    fmt: str,
    output: str,
    name: list[str] | None,
    experiment: str | None,
    start: str | None,
    end: str | None,
) -> int:
    """``flcollector export``: export from the configured store to ``output``. Exit 0, 1 (failed), 2 (bad input).

    Events are exported too unless ``name`` narrows the export to some metrics.
    """
    try:
        config = load_config(config_path)
        cfg = store_config(config)
        if config.registry.get("exporter", fmt) is None:
            raise FlcollectorError(
                f"unknown export format {fmt!r}; known: {', '.join(config.registry.names('exporter'))}"
            )
        start_ns = parse_time(start) if start else None
        end_ns = parse_time(end) if end else None
        data_dir = Path(config.agent.data_dir)
        if not data_dir.is_dir():
            raise FlcollectorError(f"data dir {str(data_dir)!r} does not exist: nothing has been collected there")
    except (FlcollectorError, ValueError) as exc:
        print(f"flcollector export: {exc}", file=sys.stderr)
        return 2

    async def run() -> ExportResult:
        store = open_store(config, cfg)
        file = getattr(store, "path", None)  # a file-backed store must not be created empty by an export
        if isinstance(file, Path) and not file.exists():
            raise FlcollectorError(f"no store at {str(file)!r}: nothing has been collected with this config")
        async with store:
            return await export_records(
                store,
                fmt,
                output,
                names=name,
                experiment=experiment,
                start_ns=start_ns,
                end_ns=end_ns,
                include_events=not name,
                registry=config.registry,
            )

    try:
        result = trio.run(run)
    except (FlcollectorError, ValueError, RuntimeError, OSError) as exc:
        print(f"flcollector export: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {result.path} ({result.metrics} metrics, {result.events} events)")
    return 0
