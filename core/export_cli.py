"""``flcollector export`` and ``flcollector report``: the configured store opened outside the agent, and the
exit codes (0 written, 1 failed with the reason, 2 bad input). ``flcollector demo`` writes its report here too.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from .components import Runtime
from .config import ComponentConfig, Config, load_config
from .context import RunContext
from .errors import FlcollectorError
from .export import ExportResult, Progress, export_records, find_exporter, latest_experiment, parse_time
from .loader import Registry
from .selection import parse_aggregation
from .stats import StatsRegistry
from .store import Selection


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


def _prepare(config_path: str | None) -> tuple[Config, ComponentConfig]:
    """Load the config and find its store; raise FlcollectorError or ValueError with the reason."""
    config = load_config(config_path)
    cfg = store_config(config)
    data_dir = Path(config.agent.data_dir)
    if not data_dir.is_dir():
        raise FlcollectorError(f"data dir {str(data_dir)!r} does not exist: nothing has been collected there")
    return config, cfg


def _run_with_store(config: Config, cfg: ComponentConfig, work: Callable[[Any], Any]) -> Any:
    """Open the configured store (never creating an empty one) and run ``await work(store)`` in Trio."""

    async def run() -> Any:
        store = open_store(config, cfg)
        file = getattr(store, "path", None)  # a file-backed store must not be created empty by an export
        if isinstance(file, Path) and not file.exists():
            raise FlcollectorError(f"no store at {str(file)!r}: nothing has been collected with this config")
        async with store:
            return await work(store)

    return trio.run(run)


def main(
    config_path: str | None,
    fmt: str,
    output: str,
    name: list[str] | None,
    experiment: str | None,
    start: str | None,
    end: str | None,
    aggregation: str | None = None,
    progress: Progress | None = None,
) -> int:
    """``flcollector export``: export from the configured store to ``output``. Exit 0, 1 (failed), 2 (bad input).

    Events are exported too unless ``name`` narrows the export to some metrics.
    """
    try:
        config, cfg = _prepare(config_path)
        find_exporter(config.registry, fmt)
        parse_aggregation(aggregation)
        start_ns = parse_time(start) if start else None
        end_ns = parse_time(end) if end else None
    except (FlcollectorError, ValueError) as exc:
        print(f"flcollector export: {exc}", file=sys.stderr)
        return 2

    async def work(store: Any) -> ExportResult:
        return await export_records(
            store, fmt, output, names=name, experiment=experiment, start_ns=start_ns, end_ns=end_ns,
            include_events=not name, registry=config.registry, aggregation=aggregation, progress=progress,
        )

    return _finish("export", _run_with_store, config, cfg, work, progress,
                   lambda result: f"wrote {result.path} ({result.metrics} metrics, {result.events} events)")


def _finish(command: str, run: Callable[..., Any], config: Config, cfg: ComponentConfig, work: Callable[[Any], Any],
            progress: Progress | None, done: Callable[[ExportResult], str]) -> int:
    """Run ``work`` on the store and print what was written (exit 0), or why it failed (exit 1); a progress bar
    (anything with ``finish()``) ends its line first."""
    try:
        result: ExportResult = run(config, cfg, work)
    except (FlcollectorError, ValueError, RuntimeError, OSError) as exc:
        _end(progress)
        print(f"flcollector {command}: {exc}", file=sys.stderr)
        return 1
    _end(progress)
    print(done(result))
    return 0


def _end(progress: Progress | None) -> None:
    finish = getattr(progress, "finish", None)
    if callable(finish):
        finish()


def report_path(data_dir: Path, experiment: str | None) -> Path:
    """Where a report goes by default: ``<data_dir>/reports/<experiment>.html``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", experiment or "all")
    return data_dir / "reports" / f"{safe}.html"


async def write_report(store: Any, registry: Registry, data_dir: Path, experiment: str | None = None,
                       output: str | Path | None = None) -> ExportResult:
    """Write the HTML report of ``experiment`` (default: the latest) and return what was written."""
    experiment = experiment or await latest_experiment(store)
    target = Path(output) if output else report_path(data_dir, experiment)
    return await export_records(store, "report", target, selection=Selection(experiment=experiment),
                                registry=registry)


def report_main(config_path: str | None, experiment: str | None, output: str | None) -> int:
    """``flcollector report``: write an experiment's HTML report. Exit 0, 1 (failed), 2 (bad input)."""
    try:
        config, cfg = _prepare(config_path)
        find_exporter(config.registry, "report")
    except (FlcollectorError, ValueError) as exc:
        print(f"flcollector report: {exc}", file=sys.stderr)
        return 2

    async def work(store: Any) -> ExportResult:
        return await write_report(store, config.registry, Path(config.agent.data_dir), experiment, output)

    return _finish("report", _run_with_store, config, cfg, work, None, lambda result: f"wrote {result.path}")
