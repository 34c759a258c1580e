"""GET /api/v1/report serves the same self-contained HTML that `flcollector report` writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import trio
from experiment_records import EXPERIMENT
from export_api_helpers import Api, start_api

pytest.importorskip("matplotlib")
_WRITTEN_AT = re.compile(r"Written by flcollector [^<]* at [^<]*\.")


async def test_report_cli_writes_the_page_the_route_serves(api_report: tuple[str, str]) -> None:
    served, written = api_report
    assert _WRITTEN_AT.sub("", served) == _WRITTEN_AT.sub("", written)  # the same page but the moment it was made


async def test_report_route(api: Api) -> None:
    response = await api.client.get("/api/v1/report", params={"experiment_id": EXPERIMENT})
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.count("data:image/png;base64,") == 6 and f"report: {EXPERIMENT}" in response.text
    latest = await api.client.get("/api/v1/report")  # no experiment: the one with the newest record
    assert latest.status_code == 200 and f"report: {EXPERIMENT}" in latest.text
    missing = await api.client.get("/api/v1/report", params={"experiment_id": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "experiment_id"


async def test_report_of_an_empty_store_says_nothing_is_stored_yet(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    running = await start_api(nursery, tmp_path / "data")  # a store with no record at all
    async with running.client:
        response = await running.client.get("/api/v1/report")
    running.agent.stop()
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no records stored yet: nothing to report"
