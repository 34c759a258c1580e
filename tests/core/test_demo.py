"""``flcollector demo``: emulators, a generated config and the real agent in one process."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from flcollector import MetricQuery
from flcollector.demo import Demo, main, run_demo, without_missing_plugins
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.plugins.sqlite import SqliteStore


async def test_demo_runs_the_agent_against_the_emulators(tmp_path: Path, make_component: Callable[..., Any]) -> None:
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            demo: Demo = await nursery.start(
                functools.partial(run_demo, None, str(tmp_path / "demo"), 0, tick=0.05, handle_signals=False)
            )
            config = tomllib.loads(demo.config_path.read_text())
            fl = demo.emulators["fl"]
            assert isinstance(fl, FlServerEmulator)
            assert config["monitors"]["fl"][0]["url"] == fl.url
            assert config["agent"]["data_dir"] == str((tmp_path / "demo").resolve())
            for key in ("policy", "sdn"):  # present when the other emulators are installed
                if key in demo.emulators:
                    assert config["monitors"][key][0]["url"] == demo.emulators[key].url
            agent = demo.agent
            async with agent.observe() as batches:
                async for _ in batches:
                    if agent.context.round is not None and agent.context.round >= 3:
                        break
            server = agent.find("listener", "server")
            async with httpx.AsyncClient(base_url=server.url) as client:
                health = (await client.get("/health")).json()
            agent.stop()  # run_demo returns once every sink has flushed
        store = make_component(SqliteStore, {"path": str(tmp_path / "demo" / "flcollector.db")})
        await store.open()
        rounds = await store.query_metrics(MetricQuery(names=["fl_round"], limit=100))
        await store.close()
    assert health["status"] in ("healthy", "degraded")
    assert agent.stats.dropped_total == 0
    experiment = agent.context.experiment
    assert experiment and experiment.startswith("cnn-mnist-") and {m.experiment for m in rounds} == {experiment}
    assert sorted(m.round for m in rounds)[:3] == [1, 2, 3]
    assert demo.report is not None and demo.report.name == f"{experiment}.html"
    assert 'id="figure-accuracy"' in demo.report.read_text()  # rounds were recorded, so they are drawn


def test_demo_main_stops_after_its_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(duration=0.5, data_dir=str(tmp_path / "d"), port=0) == 0
    printed = capsys.readouterr().out
    assert "emulated fl-server" in printed and "stopping after 0.5 s" in printed and "stopped; data kept" in printed
    report = Path(printed.split("[demo] report: ", 1)[1].split("\n", 1)[0])  # the demo ends with its report
    assert report.parent == tmp_path / "d" / "reports" and report.suffix == ".html"
    assert "<h1>FL experiment report" in report.read_text()


def test_tables_of_missing_plugins_are_left_out() -> None:
    text = '[agent]\ninterval = "1s"\n[[monitors.fl]]\nurl = "x"\n[[monitors.nope]]\nurl = "y"\n[server]\nport = 1\n'
    kept = without_missing_plugins(text, lambda kind, name: name == "fl")
    assert tomllib.loads(kept) == {"agent": {"interval": "1s"}, "monitors": {"fl": [{"url": "x"}]}}
