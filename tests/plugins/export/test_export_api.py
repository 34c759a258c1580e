"""The spec's export API end to end: POST /api/v1/export, polling, downloads in every format, the list."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from experiment_records import EXPERIMENT, experiment
from export_api_helpers import Api, held_exports, no_wait, start_agent
from flcollector import Event, Metric, record_from_dict


def stored(kind: type, exp: str = EXPERIMENT) -> list[Any]:
    return [r for r in experiment() if isinstance(r, kind) and r.experiment == exp]


async def download(api: Api, entry: dict[str, Any]) -> tuple[str, bytes, str]:
    """Download an export; return its content type, body and the file name it is offered under."""
    response = await api.client.get(entry["download_url"])
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    return response.headers["content-type"], response.content, disposition.split("filename=")[1].strip('"')


def unzip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_json_export_holds_the_experiment_and_reads_back_as_records(api: Api) -> None:
    response = await api.export(experiment_id=EXPERIMENT, format="json")
    assert response.status_code == 200
    entry = response.json()
    assert entry["status"] == "completed" and entry["format"] == "json" and entry["aggregation"] == "raw"
    assert entry["download_url"] == f"/api/v1/downloads/{entry['export_id']}"
    assert entry["expires_at"] > entry["created_at"]
    content_type, body, filename = await download(api, entry)
    assert content_type == "application/json" and filename.endswith(".json") and EXPERIMENT in filename
    assert entry["file_size"] == len(body)
    records = [record_from_dict(item) for item in json.loads(body)]
    metrics = [r for r in records if isinstance(r, Metric)]
    def key(m: Metric) -> tuple[Any, ...]:
        return m.name, m.time_ns, sorted(m.tags.items()), sorted(m.fields.items()), m.round

    assert sorted(map(key, metrics)) == sorted(map(key, stored(Metric)))  # values and types exactly as stored
    assert len([r for r in records if isinstance(r, Event)]) == len(stored(Event))


async def test_jsonl_export_is_one_record_per_line(api: Api) -> None:
    entry = (await api.export(experiment_id=EXPERIMENT, format="jsonl")).json()
    content_type, body, filename = await download(api, entry)
    assert content_type == "application/x-ndjson" and filename.endswith(".jsonl")
    lines = body.decode().splitlines()
    assert len(lines) == len(stored(Metric)) + len(stored(Event))
    assert {json.loads(line)["kind"] for line in lines} == {"metric", "event"}


async def test_csv_export_is_a_zip_of_metrics_and_events(api: Api) -> None:
    entry = (await api.export(experiment_id=EXPERIMENT, format="csv")).json()
    content_type, body, filename = await download(api, entry)
    assert content_type == "application/zip" and filename.endswith(".zip")
    files = unzip(body)
    assert sorted(files) == ["events.csv", "metrics.csv"]
    metrics = list(csv.DictReader(io.StringIO(files["metrics.csv"].decode())))
    assert len(metrics) == len(stored(Metric)) == entry["rows"]["metrics"]
    assert {row["experiment"] for row in metrics} == {EXPERIMENT}
    times = [int(row["time_ns"]) for row in metrics]
    assert times == sorted(times)  # time order
    events = list(csv.DictReader(io.StringIO(files["events.csv"].decode())))
    assert len(events) == len(stored(Event)) and json.loads(events[0]["details"]) is not None


async def test_parquet_export_has_typed_columns(api: Api) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    entry = (await api.export(experiment_id=EXPERIMENT, format="parquet", components=["network_metrics"])).json()
    content_type, body, filename = await download(api, entry)
    assert content_type == "application/vnd.apache.parquet" and filename.endswith(".parquet")
    table = pq.read_table(io.BytesIO(body))
    expected = [m for m in stored(Metric) if m.name in ("sdn_port", "network")]
    assert table.num_rows == len(expected)
    schema = {field.name: str(field.type) for field in table.schema}
    assert schema["time"] == "timestamp[ns, tz=UTC]" and schema["rx_bps"] == "double"
    assert schema["rx_bytes"] == "int64" and schema["sdn_status"] == "string" and schema["tag_port"] == "string"
    assert sorted(table.column("time_ns").to_pylist()) == sorted(m.time_ns for m in expected)


@pytest.mark.parametrize(
    ("components", "names", "event_types"),
    [
        (["policy_events"], set(), {"POLICY_DECISION"}),
        (["fl_round"], {"fl_round"}, set()),  # our own metric name
        (["fl_metrics", "anomalies"], {"fl_round", "fl_client"}, {"ANOMALY_DETECTED"}),
        (["policy"], {"decision_count"}, {"POLICY_DECISION"}),
    ],
)
async def test_components_map_onto_our_records(
    api: Api, components: list[str], names: set[str], event_types: set[str]
) -> None:
    entry = (await api.export(experiment_id=EXPERIMENT, format="json", components=components)).json()
    items = json.loads((await download(api, entry))[1])
    assert {i["name"] for i in items if i["kind"] == "metric"} == names
    assert {i["type"] for i in items if i["kind"] == "event"} == event_types


async def test_events_alone_go_in_the_one_csv_file(api: Api) -> None:
    entry = (await api.export(experiment_id=EXPERIMENT, format="csv", components=["policy_events"])).json()
    content_type, body, _ = await download(api, entry)
    assert content_type == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == len([e for e in stored(Event) if e.source == "policy_engine"])
    assert {row["level"] for row in rows} == {"INFO", "WARNING"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"format": "xls"}, "format"),
        ({"aggregation": "fast"}, "aggregation"),
        ({"aggregation": "100ms"}, "aggregation"),
        ({"start_time": "yesterday-ish"}, "start_time"),
        ({"start_time": "1h", "end_time": "2h"}, "start_time"),  # an hour ago is after two hours ago
        ({"components": "fl_metrics"}, "components"),
        ({"components": []}, "components"),
        ({"components": ["fl_metrics", "no_such_thing"]}, "components"),
        ({"experiment_id": 5}, "experiment_id"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_request_is_a_400_naming_the_field(api: Api, body: dict[str, Any], param: str) -> None:
    response = await api.export(**body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["param"] == param and param in error["message"]
    assert (await api.client.get("/api/v1/exports")).json()["count"] == 0  # nothing was started


async def test_a_body_that_is_not_json_is_a_400(api: Api) -> None:
    response = await api.client.post("/api/v1/export", content=b"{not json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]


async def test_an_export_still_running_answers_202_and_the_client_polls(api: Api) -> None:
    no_wait(api.service)
    async with held_exports(api.service):  # the export cannot start until the test lets it
        response = await api.export(experiment_id=EXPERIMENT, format="csv", aggregation="1m")
        assert response.status_code == 202
        entry = response.json()
        assert entry["status"] == "running" and entry["file_size"] is None
        early = await api.client.get(entry["download_url"])
        assert early.status_code == 409 and "running" in early.json()["error"]["message"]
        listed = (await api.client.get("/api/v1/exports")).json()
        assert [e["status"] for e in listed["exports"]] == ["running"]
    done = await api.finished(entry["export_id"])
    assert done["status"] == "completed" and done["file_size"] > 0 and done["finished_at"] >= done["created_at"]
    assert (await api.client.get(entry["download_url"])).status_code == 200


async def test_the_list_shows_every_export_newest_first(api: Api) -> None:
    first = (await api.export(format="json")).json()
    second = (await api.export(format="csv", aggregation="5m")).json()
    listed = (await api.client.get("/api/v1/exports")).json()
    assert listed["count"] == 2 and [e["export_id"] for e in listed["exports"]] == [
        second["export_id"], first["export_id"]]
    assert listed["exports"][0]["aggregation"] == "5m"


@pytest.mark.parametrize(
    "path", ["/api/v1/downloads/0123456789abcdef", "/api/v1/exports/0123456789abcdef", "/api/v1/downloads/x.y"]
)
async def test_an_unknown_export_is_a_json_404(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["param"] == "export_id"


async def test_the_routes_are_in_the_openapi_document(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/export", "/api/v1/exports", "/api/v1/downloads/{export_id}", "/api/v1/report"):
        assert path in paths, path


async def test_without_the_export_listener_there_is_no_export_api(nursery: trio.Nursery, tmp_path: Path) -> None:
    with trio.fail_after(20):
        agent = await start_agent(nursery, tmp_path / "data", export=False)
        async with httpx.AsyncClient(base_url=agent.find("listener", "server").url) as client:
            missing = await client.post("/api/v1/export", json={})
            health = await client.get("/health")
        agent.stop()
    assert missing.status_code == 404 and health.status_code == 200


@pytest.mark.parametrize("window", [{"start_time": "2999-01-01T00:00:00Z"}, {"end_time": "-7.5e306"}])
async def test_a_window_beyond_the_store_is_an_empty_export_not_a_500(api: Api, window: dict[str, str]) -> None:
    """Issue 8 item 5: a well-formed time the store cannot hold is clamped (a 500 before), so nothing is selected."""
    response = await api.export(experiment_id=EXPERIMENT, format="json", **window)
    assert response.status_code == 200, response.text
    _, body, _ = await download(api, response.json())
    assert json.loads(body) == []
