"""Expiry and retention of the export API's files, the manifest across restarts, and exports cut by a shutdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
from experiment_records import EXPERIMENT, experiment
from export_api_helpers import Api, held_exports, no_wait, start_api
from flcollector.cli import main
from flcollector.config import load_config
from flcollector.errors import ConfigError
from flcollector.plugins.export.manifest import MANIFEST
from flcollector.plugins.export.settings import DAY_NS, ExportSettings
from flcollector.plugins.sqlite import SqliteStore


async def test_expired_exports_are_404_and_retention_deletes_only_the_agents_files(api: Api) -> None:
    now = [api.service.clock()]
    api.service.clock = lambda: now[0]
    old = (await api.export(experiment_id=EXPERIMENT, format="csv")).json()
    now[0] += 3 * DAY_NS
    new = (await api.export(experiment_id=EXPERIMENT, format="json")).json()
    directory = api.service.settings.directory
    assert directory == api.data / "exports"  # the default: under the data dir
    mine = {p.name for p in directory.iterdir()}
    assert f"{old['export_id']}.zip" in mine and f"{new['export_id']}.json" in mine
    (directory / "notes.txt").write_text("the user's own file")
    (directory / "0123456789abcdef.csv").write_text("looks like an export, but no manifest entry names it")

    now[0] += 4 * DAY_NS + 1  # the first is 7 days old: expired, the second 4 days: kept
    gone = await api.client.get(old["download_url"])
    assert gone.status_code == 404 and gone.json()["error"]["param"] == "export_id"
    assert (await api.client.get(f"/api/v1/exports/{old['export_id']}")).status_code == 404
    listed = (await api.client.get("/api/v1/exports")).json()
    assert [e["export_id"] for e in listed["exports"]] == [new["export_id"]]

    assert await api.service.sweep() == [old["export_id"]]
    left = {p.name for p in directory.iterdir()}
    assert f"{old['export_id']}.zip" not in left
    assert {f"{new['export_id']}.json", "notes.txt", "0123456789abcdef.csv", MANIFEST} == left
    manifest = json.loads((directory / MANIFEST).read_text())
    assert [e["export_id"] for e in manifest["exports"]] == [new["export_id"]]
    assert (await api.client.get(new["download_url"])).status_code == 200


def _settings(tmp_path: Path, table: str = "", env: dict[str, str] | None = None) -> ExportSettings:
    path = tmp_path / "export.toml"
    path.write_text(f"[[listeners.export]]\n{table}")
    (listener,) = load_config(path, env=env or {}).of_kind("listener")
    return ExportSettings.resolve(listener.options, tmp_path)


def test_settings_come_from_the_table_and_the_environment_wins(tmp_path: Path) -> None:
    default = _settings(tmp_path)
    assert (default.directory, default.retention_days, default.wait_s) == (tmp_path / "exports", 7.0, 2.0)
    assert default.retention_ns == 7 * DAY_NS
    table = 'directory = "out"\nretention_days = 1\nwait = "5s"\n'
    assert _settings(tmp_path, table).directory == tmp_path / "out"
    chosen = _settings(tmp_path, table, {"EXPORTS_DIR": "/app/exports", "EXPORT_RETENTION_DAYS": "0.5",
                                         "EXPORT_WAIT": "0s"})
    assert (chosen.directory, chosen.retention_ns, chosen.wait_s) == (Path("/app/exports"), DAY_NS // 2, 0.0)
    assert _settings(tmp_path, env={"EXPORT_RETENTION_DAYS": "0"}).retention_ns is None


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("EXPORT_RETENTION_DAYS", "a week", "expected a number of days"),
    ("EXPORT_RETENTION_DAYS", "-1", "expected 0 or more days"),
    ("EXPORT_WAIT", "soon", "expected a duration"),
])
def test_a_bad_variable_stops_the_start_naming_it(tmp_path: Path, variable: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, env={variable: value})
    assert f"environment variable {variable}" in str(caught.value) and problem in str(caught.value)


@pytest.mark.parametrize(("table", "key"), [("retention_days = -1", "retention_days"), ('wait = "later"', "wait"),
                                            ("directory = 7", "directory")])
def test_a_bad_key_exits_2_naming_the_file_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, key: str
) -> None:
    path = tmp_path / "export.toml"
    path.write_text(f"[[listeners.export]]\n{table}\n")
    assert main(["check", "-c", str(path)]) == 2
    assert f"{path}: [listeners.export] key '{key}'" in capsys.readouterr().err


async def test_exports_dir_from_the_environment(nursery: trio.Nursery, tmp_path: Path) -> None:
    env = {"EXPORTS_DIR": str(tmp_path / "elsewhere"), "EXPORT_RETENTION_DAYS": "2"}
    with trio.fail_after(30):
        api = await start_api(nursery, tmp_path / "data", env)
        async with api.client:
            entry = (await api.export(format="json")).json()
        api.agent.stop()
    assert (tmp_path / "elsewhere" / f"{entry['export_id']}.json").is_file()
    assert entry["expires_at"] > entry["created_at"]


async def fill(make_component: Callable[..., Any]) -> None:
    store = make_component(SqliteStore, {"retention": "0s"})
    async with store:
        await store.write(experiment())


async def test_an_export_cut_short_by_shutdown_is_failed_and_its_parts_deleted(
    tmp_path: Path, make_component: Callable[..., Any]
) -> None:
    with trio.fail_after(30):
        await fill(make_component)
        async with trio.open_nursery() as nursery:
            api = await start_api(nursery, tmp_path / "data")
            no_wait(api.service)
            async with api.client, held_exports(api.service):
                entry = (await api.export(format="csv")).json()
                assert entry["status"] == "running"
                api.agent.stop()  # the shutdown stops the service while the export waits for its slot
        manifest = orjson.loads((api.service.settings.directory / MANIFEST).read_bytes())
        (saved,) = manifest["exports"]  # marked at shutdown, before the store closed
        assert saved["status"] == "failed" and "stopped before the export finished" in saved["error"]
        await api.service.stopped.wait()  # the cut export has cleaned up after itself
    assert not list(api.service.settings.directory.glob(f"*{entry['export_id']}*"))
    manifest = orjson.loads((api.service.settings.directory / MANIFEST).read_bytes())
    assert manifest["exports"][0]["error"] == saved["error"]


async def test_a_restart_marks_an_unfinished_export_failed_and_deletes_its_parts(
    tmp_path: Path, make_component: Callable[..., Any]
) -> None:
    directory = tmp_path / "data" / "exports"
    directory.mkdir(parents=True)
    export_id = "00112233aabbccdd"
    entry = {"export_id": export_id, "format": "csv", "aggregation": "raw", "experiment_id": None,
             "components": None, "start_ns": None, "end_ns": None, "created_ns": 1, "expires_ns": None,
             "status": "running"}
    (directory / MANIFEST).write_text(json.dumps({"exports": [entry]}))
    (directory / f"{export_id}_events.csv").write_text("a part written before the agent died")
    (directory / f".{export_id}.csv.tmp").write_text("a half-written file")
    with trio.fail_after(30):
        await fill(make_component)
        async with trio.open_nursery() as nursery:
            api = await start_api(nursery, tmp_path / "data")
            async with api.client:
                shown = (await api.client.get(f"/api/v1/exports/{export_id}")).json()
                refused = await api.client.get(f"/api/v1/downloads/{export_id}")
            api.agent.stop()
    assert shown["status"] == "failed" and "stopped before the export finished" in shown["error"]
    assert refused.status_code == 409
    assert sorted(p.name for p in directory.iterdir()) == [MANIFEST]


async def test_an_unwritable_exports_dir_is_a_503_saying_why(nursery: trio.Nursery, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with trio.fail_after(30):
        api = await start_api(nursery, tmp_path / "data", {"EXPORTS_DIR": str(tmp_path / "a-file" / "exports")})
        async with api.client:
            refused = await api.export(format="json")
            listed = await api.client.get("/api/v1/exports")
        api.agent.stop()
    assert refused.status_code == 503 and listed.status_code == 503
    assert "a-file" in refused.json()["error"]["message"] and api.agent.health()["status"] != "unhealthy"
