"""The ``flcollector`` command line: run, check, once, plugins, demo, export, report.

Exit codes: 0 success, 1 a runtime failure (with one clear message), 2 a config or start-up error (a bad config, a
plugin that cannot load, a data dir, store or archive that cannot be written).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

import orjson
import trio

from . import __version__
from .config import Config, load_config
from .errors import ConfigError, FlcollectorError, PluginError, StartupError
from .loader import load_registry

log = logging.getLogger("flcollector.cli")


def setup_logging(level: str) -> None:
    """Log to stderr with timestamps; ``level`` is a standard level name."""
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    logging.getLogger().setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "hypercorn.error", "hypercorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags as dotted config paths: the top of the precedence (CLI > env > file > defaults)."""
    found: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        found["agent.data_dir"] = args.data_dir
    if getattr(args, "log_level", None):
        found["agent.log_level"] = args.log_level.upper()
    if getattr(args, "port", None) is not None:
        found["server.port"] = args.port
    if getattr(args, "experiment", None):
        found["agent.experiment"] = args.experiment
    return found


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config, overrides=_overrides(args))
    setup_logging(config.agent.log_level)
    return config


def cmd_run(args: argparse.Namespace) -> int:
    """Run the agent until SIGINT or SIGTERM."""
    from .agent import run_agent

    config = _load(args)
    log.info("flcollector %s starting with %s", __version__, config.file)
    trio.run(run_agent, config)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a config without running it."""
    config = _load(args)
    if args.print:
        print(orjson.dumps(config.resolved, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
        return 0
    counts = {kind: [c.instance for c in config.of_kind(kind)] for kind in ("monitor", "processor", "sink", "listener")}
    print(f"{config.file}: OK")
    for kind, names in counts.items():
        print(f"  {kind}s: {', '.join(names) if names else '-'}")
    return 0


def cmd_once(args: argparse.Namespace) -> int:
    """Collect once from every monitor and print the records as JSON lines."""
    from .once import collect_once, print_records

    config = _load(args)
    print_records(trio.run(collect_once, config))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List every plugin, where it comes from and what it provides."""
    setup_logging("CRITICAL")  # import failures are shown in the listing, not as log noise
    registry = load_registry()
    if args.json:
        rows = [
            {"name": p.name, "origin": p.origin, "module": p.module, "components": p.components,
             "error": p.error, "blocked": p.blocked}
            for p in registry.plugins.values()
        ]
        print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return 0
    for p in registry.plugins.values():
        provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in sorted(p.components.items()))
        state = f"  FAILED: {p.error}" if p.error else ("  (blocked)" if p.blocked else "")
        print(f"{p.name:<14} {p.origin:<24} {provides or '-'}{state}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the emulated FL server, policy engine and SDN controller, and the agent against them."""
    setup_logging(args.log_level or "INFO")
    from .demo import main as demo_main

    return demo_main(duration=args.duration, data_dir=args.data_dir, port=args.port)


class ProgressBar:
    """A one-line progress bar on a terminal (stderr), redrawn at most ten times a second; silent elsewhere."""

    WIDTH = 30

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        """Show ``done`` of ``total`` rows (a count alone when the total is unknown, as for aggregates)."""
        now = time.monotonic()
        if now - self.last < 0.1 and (total is None or done < total):
            return
        self.last = now
        if total:
            filled = min(self.WIDTH, self.WIDTH * done // total)
            text = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {100 * done // total:3d}% {done:,}/{total:,} rows"
        else:
            text = f"{done:,} rows"
        self.stream.write(f"\r{text}")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        """End the bar's line (so what is printed next starts on its own); the export command calls it."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def cmd_export(args: argparse.Namespace) -> int:
    """Export stored records to a file (json, jsonl, csv, parquet, notebook, report), raw or aggregated."""
    setup_logging(args.log_level or "WARNING")
    from .export_cli import main as export_main

    bar = ProgressBar() if sys.stderr.isatty() and not args.no_progress else None
    return export_main(config_path=args.config, fmt=args.format, output=args.output, name=args.name,
                       experiment=args.experiment, start=args.start, end=args.end, aggregation=args.aggregation,
                       progress=bar)


def cmd_report(args: argparse.Namespace) -> int:
    """Write an experiment's HTML report (figures inline) from the configured store."""
    setup_logging(args.log_level or "WARNING")
    from .export_cli import report_main

    return report_main(config_path=args.config, experiment=args.experiment, output=args.output)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``flcollector`` command."""
    parser = argparse.ArgumentParser(prog="flcollector", description="Monitoring agent for FL experiments.")
    parser.add_argument("--version", action="version", version=f"flcollector {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], type=str.upper)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="run the agent until SIGINT/SIGTERM")
    run.add_argument("-c", "--config", help="TOML config (default: ./config/collector.toml or built-in)")
    run.add_argument("--data-dir", help="where the store and archive go (overrides [agent] data_dir)")
    run.add_argument("--port", type=int, help="API port (overrides [server] port and COLLECTOR_PORT)")
    run.add_argument("--experiment", help="experiment id stamped on every record")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", parents=[common], help="validate a config (exit 2 on error)")
    check.add_argument("-c", "--config", required=True)
    check.add_argument("--print", action="store_true", help="print the resolved config (after env and flags)")
    check.add_argument("--data-dir")
    check.add_argument("--port", type=int)
    check.set_defaults(func=cmd_check)

    once = sub.add_parser("once", parents=[common], help="collect once and print records as JSON lines")
    once.add_argument("-c", "--config")
    once.set_defaults(func=cmd_once)

    plugins = sub.add_parser("plugins", parents=[common], help="list plugins and their components")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(func=cmd_plugins)

    demo = sub.add_parser("demo", parents=[common], help="run a live emulated FL experiment with the agent")
    demo.add_argument("--duration", type=float, help="stop after this many seconds")
    demo.add_argument("--data-dir")
    demo.add_argument("--port", type=int, help="API port (default 8083)")
    demo.set_defaults(func=cmd_demo)

    export = sub.add_parser("export", parents=[common], help="export stored records to a file")
    export.add_argument("-c", "--config")
    export.add_argument("-f", "--format", default="csv", help="json, jsonl, csv, parquet, notebook or report")
    export.add_argument("-o", "--output", required=True)
    export.add_argument("--name", action="append", help="metric name (repeatable)")
    export.add_argument("--experiment")
    export.add_argument("--start", help="ISO-8601 time or epoch seconds")
    export.add_argument("--end")
    export.add_argument("--aggregation", default="raw",
                        help="raw (default), or time buckets per series: 1m, 5m, 1h or any duration")
    export.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    export.set_defaults(func=cmd_export)

    report = sub.add_parser("report", parents=[common], help="write an experiment's HTML report")
    report.add_argument("-c", "--config")
    report.add_argument("--experiment", help="default: the experiment with the newest record")
    report.add_argument("-o", "--output", help="default: <data_dir>/reports/<experiment>.html")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"flcollector: config error: {exc}", file=sys.stderr)
        return 2
    except PluginError as exc:
        print(f"flcollector: plugin error: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:  # nothing ran: the store, the archive or the data dir cannot be written
        print(f"flcollector: cannot start: {exc}", file=sys.stderr)
        return 2
    except FlcollectorError as exc:
        print(f"flcollector: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a second Ctrl-C during the flush
        print("flcollector: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
