"""The ``export`` listener: runs the export API's service (exports in the background, retention) in the agent's own
nursery, so it starts before the monitors and stops, cutting any export still running, before the store closes."""

from __future__ import annotations

from typing import Any

import trio
from flcollector import Listener, Send

from .service import ExportService
from .settings import ExportOptions, ExportSettings


class ExportListener(Listener):
    """The export API's service; with it configured, the plugin adds the export routes to the server."""

    name = "export"
    Options = ExportOptions

    async def open(self) -> None:
        """Make the service for the configured directory (it is read when the service starts)."""
        settings = ExportSettings.resolve(self.options, self.runtime.data_dir)
        self.service = ExportService(self.runtime.agent, settings)

    async def run(self, send: Send, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve exports until the agent shuts down; then every export still running is marked failed."""
        await self.service.run(task_status)
