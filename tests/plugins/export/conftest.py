"""Fixtures of the export API tests: a real agent (sqlite store, server on 127.0.0.1:0) over a stored experiment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from experiment_records import EXPERIMENT, experiment
from export_api_helpers import Api, start_api
from flcollector.plugins.sqlite import SqliteStore


@pytest.fixture
async def api(
    nursery: trio.Nursery, make_component: Callable[..., Any], tmp_path: Path
) -> AsyncIterator[Api]:
    """The stored experiment (tests/experiment_records.py) served by a running agent; stopped after the test."""
    store = make_component(SqliteStore, {"retention": "0s"})
    with trio.fail_after(20):
        async with store:
            await store.write(experiment())
        running = await start_api(nursery, tmp_path / "data")
    async with running.client:
        with trio.fail_after(60):
            yield running
    running.agent.stop()


@pytest.fixture
async def api_report(api: Api) -> tuple[str, str]:
    """The report served by the route and the one `flcollector report` writes from the same store."""
    from flcollector.export_cli import report_main

    served = (await api.client.get("/api/v1/report", params={"experiment_id": EXPERIMENT})).text
    config = api.data.parent / f"{api.data.name}.toml"
    output = api.data / "report.html"
    code = await trio.to_thread.run_sync(report_main, str(config), EXPERIMENT, str(output))
    assert code == 0
    return served, output.read_text()
