"""core/export.py against a real SQLite store: export_records, paging, time parsing and the CLI entry ``main``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
from flcollector import Event, Metric, MetricQuery, Record, export_tables
from flcollector.export import export_records, parse_time
from flcollector.export_cli import main

sqlite_plugin = pytest.importorskip("flcollector.plugins.sqlite")
# an hour ago, with nanoseconds a float64 could not hold (recent, so the store's retention keeps it)
T0 = (time.time_ns() // 10**9 - 3600) * 10**9 + 123_456_789


def records() -> list[Record]:
    out: list[Record] = [
        Metric(
            "fl_round",
            {"accuracy": 0.5 + n / 100, "loss": 1 / n},
            time_ns=T0 + n * 1_000_000_000,
            source="fl_server",
            experiment="exp1",
            round=n,
        )
        for n in range(1, 8)
    ]
    out.append(Metric("system_cpu", {"usage_percent": 7.5}, time_ns=T0 + 5, tags={"host": "h1"}, experiment="exp1"))
    out.append(Metric("fl_round", {"accuracy": 0.1}, time_ns=T0 + 9, experiment="exp2", round=1))
    out.append(Event("CONVERGENCE_DETECTED", "done", time_ns=T0 + 6, experiment="exp1", round=6, id=1))
    return out


async def fill_store(store: Any) -> None:
    async with store:
        await store.write(records())


def test_parse_time_forms() -> None:
    now = 2_000_000_000 * 1_000_000_000
    assert parse_time("now", now) == now
    assert parse_time("15m", now) == now - 15 * 60 * 1_000_000_000
    assert parse_time("1732788000", now) == 1_732_788_000 * 1_000_000_000
    iso = dt.datetime(2024, 11, 28, 10, 0, 0, 123456, tzinfo=dt.UTC)
    assert parse_time("2024-11-28T10:00:00.123456Z", now) == int(iso.timestamp()) * 10**9 + 123_456_000
    assert parse_time("2024-11-28T11:00:00+01:00", now) == int(iso.timestamp()) * 10**9
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday-ish", now)
    # well formed, but beyond what a store holds (1970..2262): clamped, so it selects nothing or everything
    assert parse_time("2999-01-01T00:00:00Z", now) == parse_time("7.5e306", now) == 2**63 - 1
    assert parse_time("-7.5e306", now) == parse_time("0001-01-01T00:00:00+05:00", now) == 0


async def test_export_records_reads_every_chunk(
    make_component: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_tables, "CHUNK", 3)  # force several chunks through the real store
    store = make_component(sqlite_plugin.SqliteStore, {})
    with trio.fail_after(10):
        async with store:
            await store.write(records())
            result = await export_records(store, "json", tmp_path / "all", experiment="exp1")
    assert result.path == tmp_path / "all.json"
    assert (result.metrics, result.events) == (8, 1)
    items = json.loads(result.path.read_text())
    times = [i["time_ns"] for i in items if i["kind"] == "metric"]
    assert times == sorted(times) and T0 + 1_000_000_000 in times  # time order, exact nanoseconds
    assert {i["experiment"] for i in items} == {"exp1"}


async def test_export_records_rejects_unknown_format(make_component: Callable[..., Any], tmp_path: Path) -> None:
    store = make_component(sqlite_plugin.SqliteStore, {})
    with trio.fail_after(10):
        async with store:
            with pytest.raises(ValueError, match=r"unknown export format 'xlsx'; known: .*csv"):
                await export_records(store, "xlsx", tmp_path / "x")


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "collector.toml"
    config.write_text(f'[agent]\ndata_dir = "{tmp_path / "data"}"\n\n[[sinks.sqlite]]\n', encoding="utf-8")
    return config


def test_main_exports_csv_from_the_configured_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_component: Callable[..., Any]
) -> None:
    config = write_config(tmp_path)
    trio.run(fill_store, make_component(sqlite_plugin.SqliteStore, {}))  # conftest puts data in tmp_path/data
    out = tmp_path / "exports" / "run.csv"
    start = str(T0 // 10**9 + 2)  # epoch seconds between round 1 and round 2
    code = main(str(config), "csv", str(out), ["fl_round"], "exp1", start, None)
    assert code == 0
    assert f"wrote {out} (6 metrics, 0 events)" in capsys.readouterr().out
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["round"]) for r in rows] == [2, 3, 4, 5, 6, 7]  # start filter applied, rounds 2.. only
    assert int(rows[0]["time_ns"]) == T0 + 2_000_000_000
    assert not (tmp_path / "exports" / "run_events.csv").exists()  # --name narrows the export to metrics


def test_main_errors_are_clear_and_create_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    assert main(str(config), "csv", str(tmp_path / "a.csv"), None, None, None, None) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "data").mkdir()
    assert main(str(config), "csv", str(tmp_path / "a.csv"), None, None, None, None) == 1
    assert "no store at" in capsys.readouterr().err
    assert not list((tmp_path / "data").iterdir())  # the export did not create an empty database
    assert main(str(config), "xlsx", str(tmp_path / "a"), None, None, None, None) == 2
    assert "unknown export format 'xlsx'" in capsys.readouterr().err
    assert main(str(config), "csv", str(tmp_path / "a"), None, None, "last tuesday", None) == 2
    assert "cannot read the time" in capsys.readouterr().err
    assert main(str(tmp_path / "missing.toml"), "csv", str(tmp_path / "a"), None, None, None, None) == 2


async def test_export_from_a_running_agent_includes_what_the_processors_derived(
    make_config: Callable[..., Any], tmp_path: Path
) -> None:
    from flcollector.agent import Agent, run_agent

    config = make_config(
        '[[processors.anomaly]]\n[[processors.convergence]]\n[[sinks.sqlite]]\nflush_interval = "10ms"\n',
        overrides={"agent.experiment": "exp9", "agent.self_metrics_interval": "0s"},
    )
    accuracy = [0.4, 0.6, 0.7, 0.75, 0.78] + [0.8] * 6
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(partial(run_agent, handle_signals=False), config)
            for n, a in enumerate(accuracy, 1):
                await agent.send([Metric("fl_round", {"accuracy": a, "loss": 1 - a}, source="fl_server", round=n)])
            store = agent.store
            assert store is not None
            # the sqlite sink flushes every 10 ms and signals nothing: poll the stored count (bounded by fail_after)
            while await store.count_metrics(MetricQuery(names=["fl_convergence"])) < len(accuracy):  # noqa: ASYNC110
                await trio.sleep(0.01)
            result = await export_records(agent, "json", tmp_path / "exp9", names=None)
            agent.stop()
    items = json.loads(result.path.read_text())
    assert result.path.suffix == ".json"
    converged = [i for i in items if i["kind"] == "event" and i["type"] == "CONVERGENCE_DETECTED"]
    # the first round whose best of the last 5 rounds does not beat the best before them by 0.005
    first = next(n for n in range(6, len(accuracy) + 1) if max(accuracy[n - 5 : n]) - max(accuracy[: n - 5]) < 0.005)
    assert [(c["experiment"], c["round"]) for c in converged] == [("exp9", first)]
    assert len([i for i in items if i["kind"] == "metric" and i["name"] == "fl_convergence"]) == len(accuracy)
