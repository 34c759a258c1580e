"""Exporters round-trip: export, read back with csv / json / pyarrow, compare with what went in."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest
import trio
from flcollector import Event, Metric, Record, record_from_dict, record_to_dict
from flcollector.loader import load_registry
from flcollector.plugins.exporters.csv_export import CsvExporter
from flcollector.plugins.exporters.json_export import JsonExporter
from flcollector.plugins.exporters.parquet_export import INSTALL_HINT, ParquetExporter
from flcollector.plugins.exporters.tables import iso_time

T0 = 1_732_788_000_123_456_789  # nanoseconds that a float64 could not hold exactly


def sample_records() -> list[Record]:
    return [
        Metric(
            "fl_round",
            {"accuracy": 0.8123456789012345, "loss": 0.25, "clients": 3, "round": 1},
            time_ns=T0,
            source="fl_server",
            experiment="exp1",
            round=1,
        ),
        Metric(
            "sdn_port",
            {"rx_bps": 1.5e9, "up": True, "state": "LIVE"},
            time_ns=T0 + 1,
            tags={"switch": "s1", "port": "2"},
            source="sdn_controller",
            experiment="exp1",
            round=1,
        ),
        Metric("system_cpu", {"usage_percent": 12.5}, time_ns=T0 + 2, tags={"host": "h1"}),
        Event(
            "ANOMALY_DETECTED",
            "rtt spike",
            time_ns=T0 + 3,
            source="probe",
            level="WARNING",
            details={"value": 175.0, "tags": {"host": "h1"}},
            experiment="exp1",
            round=1,
            id=7,
        ),
    ]


def test_iso_time_keeps_nanoseconds() -> None:
    assert iso_time(T0) == "2024-11-28T10:00:00.123456789Z"
    assert dt.datetime.fromisoformat(iso_time(T0)[:26] + "+00:00").timestamp() == pytest.approx(T0 / 1e9)


async def test_csv_round_trip(tmp_path: Path) -> None:
    records = sample_records()
    with trio.fail_after(10):
        path = await CsvExporter().export(records, tmp_path / "out" / "run.csv", {})
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:6] == ["time", "time_ns", "name", "source", "experiment", "round"]
    assert [int(r["time_ns"]) for r in rows] == [T0, T0 + 1, T0 + 2]
    assert rows[0]["time"] == iso_time(T0)
    fl, port, cpu = rows
    assert float(fl["accuracy"]) == 0.8123456789012345  # repr round-trips floats exactly
    assert int(fl["clients"]) == 3 and fl["round"] == "1"
    assert fl["field_round"] == "1"  # a field that clashes with a fixed column is prefixed
    assert (port["tag_switch"], port["tag_port"], float(port["rx_bps"]), port["up"]) == ("s1", "2", 1.5e9, "True")
    assert port["accuracy"] == "" and cpu["experiment"] == ""  # missing values are empty cells
    with (tmp_path / "out" / "run_events.csv").open(newline="") as f:
        (event,) = list(csv.DictReader(f))
    assert (int(event["id"]), event["type"], event["level"], int(event["time_ns"])) == (
        7,
        "ANOMALY_DETECTED",
        "WARNING",
        T0 + 3,
    )
    assert json.loads(event["details"]) == {"value": 175.0, "tags": {"host": "h1"}}


async def test_csv_without_events_writes_no_events_file(tmp_path: Path) -> None:
    with trio.fail_after(10):
        await CsvExporter().export(sample_records()[:1], tmp_path / "m.csv", {"delimiter": ";"})
    assert (tmp_path / "m.csv").read_text().startswith("time;time_ns;name")
    assert os.listdir(tmp_path) == ["m.csv"]  # no events file, and the atomic write left no temporary file


@pytest.mark.parametrize("lines", [False, True])
async def test_json_round_trip_rebuilds_identical_records(tmp_path: Path, lines: bool) -> None:
    records = sample_records()
    with trio.fail_after(10):
        path = await JsonExporter().export(records, tmp_path / "run.json", {"lines": lines})
    text = path.read_text()
    items = [json.loads(line) for line in text.splitlines()] if lines else json.loads(text)
    # the nested shape is record_to_dict's, so flcollector.record_from_dict rebuilds identical records
    assert items == [record_to_dict(r) for r in records]
    assert [record_from_dict(item) for item in items] == records
    assert items[0]["time_ns"] == T0 and items[0]["fields"]["accuracy"] == 0.8123456789012345


async def test_json_flat_rows_match_csv_columns(tmp_path: Path) -> None:
    with trio.fail_after(10):
        path = await JsonExporter().export(sample_records(), tmp_path / "flat.json", {"flat": True, "indent": True})
    items = json.loads(path.read_text())
    assert [i["kind"] for i in items] == ["metric", "metric", "metric", "event"]
    assert items[0]["time_ns"] == T0 and items[1]["tag_switch"] == "s1" and items[1]["up"] is True


async def test_parquet_round_trip(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    records = sample_records()
    with trio.fail_after(10):
        path = await ParquetExporter().export(records, tmp_path / "run.parquet", {"compression": "snappy"})
    table = pq.read_table(path)
    assert str(table.schema.field("time").type) == "timestamp[ns, tz=UTC]"
    assert str(table.schema.field("time_ns").type) == "int64"
    assert str(table.schema.field("clients").type) == "int64"
    assert str(table.schema.field("up").type) == "bool"
    rows = table.drop_columns(["time"]).to_pylist()  # a ns timestamp needs pandas to become a Python object
    assert [r["time_ns"] for r in rows] == [T0, T0 + 1, T0 + 2]
    assert table.column("time").cast("int64").to_pylist() == [T0, T0 + 1, T0 + 2]  # no precision lost
    assert rows[0]["accuracy"] == 0.8123456789012345 and rows[0]["field_round"] == 1
    assert (rows[1]["tag_port"], rows[1]["state"], rows[2]["experiment"]) == ("2", "LIVE", None)
    (event,) = pq.read_table(tmp_path / "run_events.parquet").drop_columns(["time"]).to_pylist()
    assert (event["id"], event["type"], json.loads(event["details"])["value"]) == (7, "ANOMALY_DETECTED", 175.0)


async def test_parquet_without_pyarrow_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # makes `import pyarrow.parquet` fail
    with pytest.raises(RuntimeError, match=r"pip install 'flcollector\[parquet\]'") as info:
        await ParquetExporter().export(sample_records(), tmp_path / "x.parquet", {})
    assert str(info.value) == INSTALL_HINT
    assert not (tmp_path / "x.parquet").exists()


async def test_unknown_or_mistyped_options_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown option"):
        await CsvExporter().export([], tmp_path / "a.csv", {"delimeter": ";"})
    with pytest.raises(ValueError, match="expects bool"):
        await JsonExporter().export([], tmp_path / "a.json", {"lines": "yes"})
    with pytest.raises(ValueError, match="compression"):
        await ParquetExporter().export([], tmp_path / "a.parquet", {"compression": "zip"})


def test_all_exporters_are_registered() -> None:
    registry = load_registry()
    assert {"json", "csv", "parquet", "notebook"} <= set(registry.names("exporter"))
    assert registry.owners[("exporter", "parquet")] == "exporters"
