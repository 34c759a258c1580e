"""``flcollector demo``: a live emulated FL experiment and the agent watching it, in one process, one command.

It starts the emulated FL server, policy engine, SDN controller and GNS3 server on loopback (port 0) with their
scripts running (GNS3's degrades the FL server's uplink to 80 ms / 2 % loss on tick 5 and restores it on tick 9;
the loss reaches the emulated switches, :mod:`.emulators.links`),
writes a config from the template ``demo.toml`` beside this module with the emulators' real URLs filled in, and runs
the agent with it until Ctrl-C, SIGTERM or ``--duration`` seconds, then writes the experiment's HTML report and
prints its path. The demo is CLI-facing, so it prints where the API is and a short live summary (plain prints are
allowed here only).
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
import tempfile
from pathlib import Path
from string import Template
from typing import Any

import attrs
import trio

from .emulators.base import Emulator
from .emulators.fl_server import FlServerEmulator
from .errors import FlcollectorError
from .records import Metric

log = logging.getLogger("flcollector.demo")

TEMPLATE_PATH = Path(__file__).resolve().parent / "demo.toml"  # shipped as package data
_PORT = re.compile(r"^port\s*=\s*\d+", re.MULTILINE)
_TABLE = re.compile(r"^\[\[?(\w+)(?:\.(\w+))?\]\]?\s*$")
_KINDS = {"monitors": "monitor", "processors": "processor", "sinks": "sink", "listeners": "listener"}


@attrs.define
class Demo:
    """What a running demo consists of (handed to tests through ``task_status``)."""

    agent: Any
    emulators: dict[str, Emulator]
    config_path: Path
    data_dir: Path
    report: Path | None = None  # the HTML report written when the demo ended


def out(text: str) -> None:
    """Print a line for the person running the demo."""
    print(text, flush=True)


def without_missing_plugins(text: str, has: Any) -> str:
    """Drop every table of ``text`` whose component ``has(kind, name)`` says is not installed (with a warning)."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines():
        match = _TABLE.match(line.strip())
        if match:
            section, name = match.groups()
            kind, component = (_KINDS.get(section), name) if name else ("listener", "server")
            dropping = section != "agent" and kind is not None and not has(kind, component)
            if dropping:
                log.warning("demo: plugin for [%s] is not installed; left out", line.strip(" []"))
        if not dropping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def build_emulators() -> dict[str, Emulator]:
    """The FL server, plus the policy engine and SDN controller when their emulators are present."""
    emulators: dict[str, Emulator] = {"fl": FlServerEmulator(num_clients=5, max_rounds=20, seed=2025)}
    for key, module, cls, kwargs in (
        ("policy", "policy_engine", "PolicyEngineEmulator", {}),
        ("sdn", "sdn_controller", "SdnControllerEmulator", {"flavour": "ryu"}),
        ("gns3", "gns3", "Gns3Emulator", {"degrade_at": 5, "restore_at": 9}),
    ):
        try:
            emulators[key] = getattr(importlib.import_module(f"{__package__}.emulators.{module}"), cls)(**kwargs)
        except (ImportError, AttributeError) as exc:
            log.warning("demo: the %s emulator is not available (%s); running without it", key, exc)
    return emulators


def _address(emulator: Emulator) -> str:
    """``host:port`` of a running emulator (the template writes ``http://$<key>_address``)."""
    return (emulator.url or "").split("://", 1)[-1]


def write_config(emulators: dict[str, Emulator], data_dir: Path, port: int, registry: Any) -> Path:
    """Fill the template with the real URLs, leave out what is missing, and write ``<data_dir>/demo.toml``."""
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    text = _PORT.sub(f"port = {port}", text)  # the only port in the template is [server]'s
    text = Template(text).safe_substitute(
        data_dir=str(data_dir).replace("\\", "/"),
        **{f"{key}_address": _address(emulator) for key, emulator in emulators.items()},
    )
    # the probe's target: the emulated FL server
    text = text.replace('"fl-server:8081"', f'"{_address(emulators["fl"])}"')

    def has(kind: str, name: str) -> bool:
        if kind == "monitor" and name in ("fl", "policy", "sdn", "gns3") and name not in emulators:
            return False
        return registry.get(kind, name) is not None

    path = data_dir / "demo.toml"
    path.write_text(without_missing_plugins(text, has), encoding="utf-8")
    return path


async def fl_script(fl: FlServerEmulator, tick: float) -> None:
    """Finish a round every ``tick`` seconds; halfway through, a policy pauses training for two ticks."""
    paused_once = False
    while True:
        await trio.sleep(tick)
        if not paused_once and fl.current_round == fl.max_rounds // 2:
            paused_once = True
            fl.pause("demo: bandwidth policy pauses training")
            await trio.sleep(2 * tick)
            fl.resume()
            continue
        await fl.step()


async def report(agent: Any, every: float) -> None:
    """Print a one-line summary of what the agent has seen every ``every`` seconds."""
    seen = {"records": 0, "events": 0, "rounds": 0}
    accuracy: float | None = None
    next_at = trio.current_time() + every
    async with agent.observe(1000) as batches:
        async for batch in batches:
            seen["records"] += len(batch)
            seen["events"] += sum(1 for r in batch if r.kind == "event")
            for record in batch:
                if isinstance(record, Metric) and record.name == "fl_round":
                    seen["rounds"] += 1
                    value = record.fields.get("accuracy")
                    accuracy = float(value) if isinstance(value, int | float) else accuracy
            if trio.current_time() >= next_at:
                next_at = trio.current_time() + every
                ctx = agent.context
                acc = f"{accuracy:.3f}" if accuracy is not None else "-"
                out(
                    f"[demo] experiment {ctx.experiment or '-'} | round {ctx.round or 0} ({ctx.phase or '-'}) | "
                    f"accuracy {acc} | rounds stored {seen['rounds']} | records {seen['records']} | "
                    f"events {seen['events']} | dropped {agent.stats.dropped_total}"
                )


async def run_demo(
    duration: float | None = None,
    data_dir: str | None = None,
    port: int | None = None,
    *,
    tick: float = 2.0,
    summary_every: float = 5.0,
    handle_signals: bool = True,
    task_status: trio.TaskStatus[Demo] = trio.TASK_STATUS_IGNORED,
) -> Demo:
    """Run the demo until a signal, ``duration`` seconds, or cancellation; returns once the agent has flushed."""
    from .agent import run_agent
    from .config import load_config
    from .loader import load_registry

    directory = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="flcollector-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    emulators = build_emulators()
    async with trio.open_nursery() as sources:
        for key, emulator in emulators.items():
            await sources.start(emulator.serve, "127.0.0.1", 0)
            if isinstance(emulator, FlServerEmulator):
                sources.start_soon(fl_script, emulator, tick)
            else:
                sources.start_soon(emulator.run_script, tick)
            log.info("demo: emulated %s at %s", key, emulator.url)
        if "gns3" in emulators and "sdn" in emulators:  # the degraded GNS3 link drops packets at the SDN switch
            from .emulators.links import follow_links

            gns3, sdn = emulators["gns3"], emulators["sdn"]
            sources.start_soon(follow_links, gns3, sdn, tick / 4)  # type: ignore[arg-type]
        registry = load_registry()
        path = write_config(emulators, directory.resolve(), 8083 if port is None else port, registry)
        config = load_config(path, env={}, registry=registry)  # the demo ignores FL_SERVER_URL & co. on purpose
        async with trio.open_nursery() as inner:

            async def agent_then_stop(task_status: trio.TaskStatus[Any]) -> None:
                await run_agent(config, handle_signals=handle_signals, task_status=task_status)
                inner.cancel_scope.cancel()  # the agent has flushed: stop the summary

            agent = await inner.start(agent_then_stop)
            demo = Demo(agent=agent, emulators=emulators, config_path=path, data_dir=directory)
            _banner(demo, duration)
            inner.start_soon(report, agent, summary_every)
            if duration is not None:
                inner.start_soon(functools.partial(_stop_after, agent, duration))
            task_status.started(demo)
        sources.cancel_scope.cancel()
    out(f"[demo] stopped; data kept in {directory}")
    await write_demo_report(config, demo)
    return demo


async def write_demo_report(config: Any, demo: Demo) -> Path | None:
    """Write the experiment's HTML report from the store the agent left, print its path, and return it (None,
    with the reason printed, when it cannot be written: no store, or the ``report`` extra not installed)."""
    from .export_cli import open_store, store_config, write_report

    try:
        store = open_store(config, store_config(config))
        async with store:
            result = await write_report(store, config.registry, demo.data_dir, demo.agent.context.experiment)
    except (FlcollectorError, RuntimeError, ValueError, OSError) as exc:
        out(f"[demo] no report: {exc}")
        return None
    demo.report = result.path
    out(f"[demo] report: {result.path}")
    return result.path


async def _stop_after(agent: Any, seconds: float) -> None:
    await trio.sleep(seconds)
    agent.stop()


def _banner(demo: Demo, duration: float | None) -> None:
    server = demo.agent.find("listener", "server")
    url = getattr(server, "url", None)
    out("flcollector demo: an emulated FLOPY-NET experiment, watched by the agent")
    for emulator in demo.emulators.values():
        out(f"  emulated {emulator.label:<15} {emulator.url}")
    if url:
        out(f"  API                      {url}/api/v1/...  (dashboard routes {url}/api/..., docs {url}/openapi.json)")
        out(f"  live                     {url.replace('http', 'ws', 1)}/ws/metrics   health {url}/health")
    else:
        out("  API                      not running (see the log: port in use, or the server plugin missing)")
    out(f"  config {demo.config_path}   data {demo.data_dir}")
    out(f"  stopping after {duration:g} s" if duration is not None else "  Ctrl-C to stop")


def main(duration: float | None, data_dir: str | None, port: int | None) -> int:
    """Run the demo (the ``flcollector demo`` command); errors go to the CLI's handler, which names them."""
    trio.run(functools.partial(run_demo, duration, data_dir, port))
    return 0
