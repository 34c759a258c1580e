"""Oversized bodies: refused with 413 before they cost memory, and a big accepted body costs bounded memory.

The agent runs in its own process so its RSS is its own. Issue 13, item 5: a 10 MB body grew RSS by ~890 MB.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import trio
from agent_process import AgentProcess, store_config

SERVER = "max_body_bytes = 1048576\nmax_points = 50000"



def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_every_kind_of_oversized_body_is_a_413_and_costs_no_memory(tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path, store_config(tmp_path / "data", archive=False, server=SERVER))
    line = b"m,host=h v=1i\n"

    async def endless() -> AsyncIterator[bytes]:  # 1 GiB, without a Content-Length, if nobody stops it
        chunk = line * 4096
        for _ in range(1024**3 // len(chunk)):
            yield chunk

    try:
        with trio.fail_after(120):
            url = await agent.start()
            assert agent.process is not None
            before = _rss_mib(agent.process.pid)
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                declared = await http.post("/write", content=line * 100_000)  # 1.4 MB, Content-Length says so
                streamed = await http.post("/write", content=endless())
                bomb = await http.post("/write", content=gzip.compress(line * 1_000_000),  # 14 MB inflated
                                       headers={"content-encoding": "gzip"})
                points = await http.post("/write", content=b"m v=1\n" * 50_001)  # 300 KB, one point too many
                records = await http.post("/api/v1/ingest", json={"metrics": [{"name": "m", "fields": {}}] * 50_001})
                fits = await http.post("/write", content=line * 50_000)  # 700 KB, exactly max_points
                total = (await http.get("/api/v1/metrics", params={"total": "1", "limit": "1"})).json()["total"]
            after = _rss_mib(agent.process.pid)
    finally:
        with trio.CancelScope(shield=True):
            await agent.kill_now()
    assert declared.status_code == streamed.status_code == bomb.status_code == 413
    assert "max_body_bytes (1048576 bytes)" in streamed.json()["error"]["message"]
    assert points.status_code == records.status_code == 413
    assert "max_points (50000)" in points.json()["error"]["message"]
    assert fits.status_code == 204 and total == 50_000
    assert after - before < 100, (before, after)  # 50,000 records went through; 1 GiB offered was never held
