"""Helpers of the export API tests: a running agent with its client, and a way to hold exports back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio
from flcollector.agent import Agent
from flcollector.config import load_config
from flcollector.plugins.export.service import ExportService

CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"

[[sinks.sqlite]]
retention = "0s"

{export}
[server]
port = 0
"""


@attrs.define
class Api:
    """A running agent with the export API: ``client`` (httpx on its URL), ``service``, ``data`` (its data dir)."""

    agent: Agent
    client: httpx.AsyncClient
    service: ExportService
    data: Path

    async def export(self, **body: Any) -> httpx.Response:
        """POST /api/v1/export with ``body``."""
        return await self.client.post("/api/v1/export", json=body)

    async def finished(self, export_id: str) -> dict[str, Any]:
        """Wait for the export to finish (its event, no polling) and return its entry as the API shows it."""
        await self.service.finished[export_id].wait()
        return dict((await self.client.get(f"/api/v1/exports/{export_id}")).json())


async def start_agent(nursery: trio.Nursery, data: Path, env: dict[str, str] | None = None,
                      export: bool = True) -> Agent:
    """Start an agent over the store in ``data`` (with the variables ``env``), with the export listener or not."""
    path = data.parent / f"{data.name}.toml"
    path.write_text(CONFIG.format(data=data, export="[[listeners.export]]" if export else ""))
    agent: Agent = await nursery.start(Agent(load_config(path, env=env or {})).run)
    return agent


async def start_api(nursery: trio.Nursery, data: Path, env: dict[str, str] | None = None) -> Api:
    """Start an agent with the export API over the store in ``data`` (with the variables ``env``); exports wait up
    to 30 s before answering ``running``."""
    agent = await start_agent(nursery, data, env)
    service: ExportService = agent.find("listener", "export").service
    service.settings = attrs.evolve(service.settings, wait_s=30.0)
    client = httpx.AsyncClient(base_url=agent.find("listener", "server").url, timeout=30)
    return Api(agent, client, service, data)


@asynccontextmanager
async def held_exports(service: ExportService) -> AsyncIterator[None]:
    """Hold every export slot, so a submitted export stays ``running`` until the block ends."""
    holders = [object() for _ in range(int(service.limiter.total_tokens))]
    for holder in holders:
        await service.limiter.acquire_on_behalf_of(holder)
    try:
        yield
    finally:
        for holder in holders:
            service.limiter.release_on_behalf_of(holder)


def no_wait(service: ExportService) -> None:
    """Make POST /api/v1/export answer at once (``running`` unless already done)."""
    service.settings = attrs.evolve(service.settings, wait_s=0.0)
