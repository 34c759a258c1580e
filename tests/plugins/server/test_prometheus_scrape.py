"""A real Prometheus server scrapes ``/metrics`` and can query what the agent exposes.

Needs the ``prometheus`` binary (Debian's package; `.ci/run` installs it). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
import trio
from flcollector import Metric, now_ns

PROMETHEUS = shutil.which("prometheus")
# CI installs Prometheus and sets FLCOLLECTOR_REQUIRE_PROMETHEUS=1, so there a missing binary fails instead of skipping
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None and not os.environ.get("FLCOLLECTOR_REQUIRE_PROMETHEUS"),
    reason="the prometheus binary is not installed (apt-get install prometheus)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _query(client: httpx.AsyncClient, expr: str) -> list[dict]:
    response = await client.get("/api/v1/query", params={"query": expr})
    response.raise_for_status()
    return list(response.json()["data"]["result"])


async def test_prometheus_scrapes_series_and_self_metrics(running, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    await running.send(
        [Metric("probe_tcp", {"rtt_avg_ms": 3.25}, time_ns=now_ns(), tags={"target": "fl:8081"}, source="probe")]
    )
    target = running.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        f"scrape_configs:\n  - job_name: flcollector\n    static_configs:\n      - targets: ['{target}']\n"
    )
    port = _free_port()
    assert PROMETHEUS is not None, "FLCOLLECTOR_REQUIRE_PROMETHEUS is set but the prometheus binary is missing"
    process = await trio.lowlevel.open_process(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            with trio.fail_after(60):
                # Prometheus is another process: poll its query API until the scrape landed (no event to await)
                while True:
                    try:
                        rtt = await _query(client, "flcollector_probe_tcp_rtt_avg_ms")
                        up = await _query(client, 'up{job="flcollector"}')
                    except httpx.HTTPError:
                        rtt, up = [], []
                    if rtt and up:
                        break
                    await trio.sleep(0.2)
    finally:
        process.terminate()
        with trio.fail_after(30):
            await process.wait()
    assert up[0]["value"][1] == "1"
    assert float(rtt[0]["value"][1]) == 3.25
    assert rtt[0]["metric"]["target"] == "fl:8081" and rtt[0]["metric"]["source"] == "probe"
