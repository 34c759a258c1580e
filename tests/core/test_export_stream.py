"""core/export.py streaming through a real sqlite store: the same files as the list path, aggregation, the
selection of components, the list path for stores that do not stream, and `flcollector export`/`report`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from experiment_records import EXPERIMENT, experiment
from flcollector import Event, EventQuery, Metric, MetricQuery, Selection
from flcollector.cli import ProgressBar
from flcollector.cli import main as cli_main
from flcollector.export import collect_records, export_records, export_selection
from flcollector.plugins.exporters import CsvExporter, JsonExporter, ParquetExporter
from flcollector.plugins.exporters.tables import events_path
from flcollector.plugins.sqlite import SqliteStore
from flcollector.selection import SelectionError, build_selection, parse_aggregation


@pytest.fixture
async def store(make_component: Callable[..., Any]) -> Any:
    sink = make_component(SqliteStore, {"retention": "0s"})
    with trio.fail_after(20):
        async with sink:
            await sink.write(experiment())
            yield sink


class ListOnly:
    """The sqlite store seen only through the Store protocol (no bulk reads): the list path's store."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    async def query_metrics(self, query: MetricQuery) -> list[Metric]:
        return await self.store.query_metrics(query)

    async def query_events(self, query: EventQuery) -> list[Event]:
        return await self.store.query_events(query)


@pytest.mark.parametrize("exporter", [CsvExporter, JsonExporter, ParquetExporter])
async def test_streamed_files_equal_the_list_paths(store: SqliteStore, tmp_path: Path, exporter: type) -> None:
    if exporter is ParquetExporter:
        pytest.importorskip("pyarrow.parquet")
    selection = Selection(experiment=EXPERIMENT)
    with trio.fail_after(20):
        streamed = await export_selection(store, exporter(), tmp_path / f"s{exporter.suffix}", selection)
        listed = await export_selection(ListOnly(store), exporter(), tmp_path / f"l{exporter.suffix}", selection)
    assert len(streamed.paths) == (1 if exporter is JsonExporter else 2) and streamed.events == listed.events
    listed_paths = [listed.path] if exporter is JsonExporter else [listed.path, events_path(listed.path)]
    for a, b in zip(streamed.paths, listed_paths, strict=True):
        if exporter is ParquetExporter:
            import pyarrow.parquet as pq

            assert pq.read_table(a).equals(pq.read_table(b))
        elif exporter is JsonExporter:
            assert json.loads(a.read_text()) == json.loads(b.read_text())
        else:
            assert a.read_text() == b.read_text()


async def test_aggregation_needs_a_store_that_aggregates(store: SqliteStore, tmp_path: Path) -> None:
    with trio.fail_after(20), pytest.raises(ValueError, match="cannot aggregate"):
        await export_selection(ListOnly(store), CsvExporter(), tmp_path / "a.csv", Selection(), bucket_ns=10**9)


async def test_the_list_path_applies_the_event_selection(store: SqliteStore) -> None:
    selection = Selection(metric_names=(), event_types=("ANOMALY_DETECTED",), event_sources=("policy",))
    with trio.fail_after(20):
        records, metrics, events = await collect_records(ListOnly(store), selection)  # type: ignore[arg-type]
    assert metrics == 0 and {(r.type, r.source) for r in records if isinstance(r, Event)} == {
        ("ANOMALY_DETECTED", "sdn_controller"), ("SOURCE_UNREACHABLE", "policy"), ("SOURCE_RECOVERED", "policy")}
    assert events == 3


async def test_progress_counts_every_row(store: SqliteStore, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    with trio.fail_after(20):
        result = await export_records(store, "csv", tmp_path / "p", progress=lambda d, t: seen.append((d, t)))
    total = len(experiment())
    assert seen[-1] == (total, total) and result.metrics + result.events == total


def test_progress_bar_draws_on_its_stream() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(50, 200)
    bar(200, 200)  # the end is always drawn, however soon after the last
    bar.finish()
    text = stream.getvalue()
    assert "[#######.......................]  25% 50/200 rows" in text and text.endswith(" 100% 200/200 rows\n")
    counting = io.StringIO()
    ProgressBar(counting)(1_234, None)
    assert counting.getvalue() == "\r1,234 rows"  # the total of an aggregate is not known before the end


def test_components_map_onto_selections() -> None:
    known = ["fl_round", "probe_tcp", "system_cpu", "sdn_port"]
    fl = build_selection(["fl_metrics"], known)
    assert fl.metric_names == ("fl_client", "fl_convergence", "fl_round", "fl_server")
    assert fl.event_sources == () and fl.event_types == () and not fl.wants_events
    network = build_selection(["network"], known, experiment="e", start_ns=1, end_ns=2)
    assert network.metric_names == ("network", "probe_tcp", "sdn_flows", "sdn_port")  # prefixes from the store
    assert network.event_sources == ("sdn_controller",) and (network.experiment, network.start_ns) == ("e", 1)
    assert build_selection(["system_cpu", "anomalies"], known).event_types == ("ANOMALY_DETECTED",)
    everything = build_selection(["events", "fl_round"], known)
    assert everything.event_types is None and everything.event_sources is None and everything.wants_events
    assert build_selection(None, known) == Selection()
    with pytest.raises(SelectionError, match="components: unknown 'nope'") as bad:
        build_selection(["nope"], known)
    assert bad.value.field == "components"


@pytest.mark.parametrize(("text", "bucket"), [("raw", None), (None, None), ("1m", 60), ("5m", 300), ("1h", 3600),
                                              ("90s", 90), ("2d", 172800)])
def test_aggregations(text: str | None, bucket: int | None) -> None:
    assert parse_aggregation(text) == (None if bucket is None else bucket * 10**9)


@pytest.mark.parametrize("text", ["hourly", "0s", "500ms", "-1m"])
def test_bad_aggregations_name_the_field(text: str) -> None:
    with pytest.raises(SelectionError, match="aggregation") as bad:
        parse_aggregation(text)
    assert bad.value.field == "aggregation"


def write_store_config(tmp_path: Path, make_component: Callable[..., Any]) -> Path:
    async def fill() -> None:
        sink = make_component(SqliteStore, {"retention": "0s"})
        async with sink:
            await sink.write(experiment())

    trio.run(fill)
    config = tmp_path / "collector.toml"
    config.write_text(f'[agent]\ndata_dir = "{tmp_path / "data"}"\n\n[[sinks.sqlite]]\nretention = "0s"\n')
    return config


def test_cli_export_aggregates(tmp_path: Path, make_component: Callable[..., Any],
                               capsys: pytest.CaptureFixture[str]) -> None:
    config = write_store_config(tmp_path, make_component)
    out = tmp_path / "agg.csv"
    code = cli_main(["export", "-c", str(config), "-o", str(out), "--aggregation", "1h", "--name", "sdn_port",
                     "--experiment", EXPERIMENT])
    assert code == 0 and f"wrote {out}" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert {r["tag_port"] for r in rows} == {"1", "2", "3"} and "rx_bps_mean" in rows[0]
    assert sum(int(r["samples"]) for r in rows) == sum(
        1 for r in experiment() if isinstance(r, Metric) and r.name == "sdn_port")
    assert cli_main(["export", "-c", str(config), "-o", str(out), "--aggregation", "soon"]) == 2
    assert "aggregation must be 'raw' or a duration" in capsys.readouterr().err


def test_cli_report_writes_the_latest_experiment(tmp_path: Path, make_component: Callable[..., Any],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    config = write_store_config(tmp_path, make_component)
    assert cli_main(["report", "-c", str(config)]) == 0
    written = tmp_path / "data" / "reports" / f"{EXPERIMENT}.html"
    assert capsys.readouterr().out == f"wrote {written}\n"
    assert written.read_text().count("data:image/png;base64,") == 6
    assert cli_main(["report", "-c", str(tmp_path / "missing.toml")]) == 2
