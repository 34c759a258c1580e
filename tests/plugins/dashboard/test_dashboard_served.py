"""The dashboard routes as the real ``[server]`` plugin serves them: over HTTP on 127.0.0.1:0, behind Basic auth
with the dashboard's credentials, next to the server's own ``/health``, with JSON 404s."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio
from dashboard_helpers import (
    closed_port_url,
    fl_round,
    fl_server,
    network_records,
    running_dashboard,
    wait_until_down,
)


async def test_dashboard_calls_work_through_the_real_server(tmp_path: Path) -> None:
    with trio.fail_after(15):
        async with running_dashboard(tmp_path, served=True) as dash:
            await dash.send([*network_records(), *fl_round(1, 0.5, 0.5), fl_server(1, 3)])
            probe = await dash.client.head("/api/metrics/latest")
            assert probe.status_code == 200  # the dashboard's start-up and 30 s health probe
            health = await dash.get("/health")
            assert "error" not in health  # the dashboard's test_connection() check
            overview = [
                ("/api/metrics/fl/status", "current_round"),
                ("/api/metrics/latest?type=network", "metrics"),
                ("/api/network/flows", "summary"),
                ("/api/events/summary", "by_level"),
                ("/api/metrics/fl/rounds?limit=1&sort_order=desc", "rounds"),
                ("/api/metrics/fl?limit=100&optimize=true&use_cache=true&consolidate_rounds=true", "metrics"),
                ("/api/network/topology/live", "topology"),
            ]
            for path, key in overview:
                body = (await dash.client.get(path)).raise_for_status().json()
                assert body[key], path
            assert (await dash.get("/api"))["endpoints"]  # upstream redirected /api to /api/; followed here
            async with httpx.AsyncClient(base_url=str(dash.client.base_url), timeout=10) as anonymous:
                denied = await anonymous.get("/api/metrics/fl/status")
                assert denied.status_code == 401
            missing = await dash.client.get("/api/metrics/history")  # documented upstream, never built
            assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/json")


async def test_sources_down_show_as_disconnected_and_unavailable(tmp_path: Path) -> None:
    url = closed_port_url()
    monitors = (
        f'\n[[monitors.sdn]]\nurl = "{url}"\ninterval = "50ms"\n[[monitors.fl]]\nurl = "{url}"\ninterval = "50ms"\n'
    )
    with trio.fail_after(15):
        async with running_dashboard(tmp_path, extra=monitors) as dash:
            await dash.send([*network_records(), *fl_round(1, 0.5, 0.5), fl_server(1, 3)])
            await wait_until_down(dash.agent, "sdn")
            await wait_until_down(dash.agent, "fl")
            network = await dash.get("/api/metrics/latest", type="network")
            assert network["metrics"]["data"]["sdn_status"] == "disconnected"
            assert network["metrics"]["data"]["switches_count"] == 2  # the last figures are still shown
            status = await dash.get("/api/metrics/fl/status")
            assert status["fl_server_available"] is False and status["collector_monitoring"] is True
            assert status["training_active"] is False and "unreachable" in status["error"]
            assert status["current_round"] == 1  # still answered from the store
