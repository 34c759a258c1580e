"""Settings of the export API, from the environment (the plugin has no config table; the spec names the variable).

* ``EXPORTS_DIR``: where exports are written; relative paths are under the agent's data dir (default
  ``<data_dir>/exports``; the container sets ``/app/exports``, its exports volume).
* ``EXPORT_RETENTION_DAYS``: days an export is kept after it was requested (default 7; decimals allowed; 0 keeps
  them forever). Only exports this plugin made, listed in its manifest, are ever deleted.
* ``EXPORT_WAIT``: how long ``POST /api/v1/export`` waits for the export before answering ``running`` (default
  ``2s``; ``0s`` always answers at once).

A value that cannot be read is logged as an error naming the variable, and the default is used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs
from flcollector import Duration

log = logging.getLogger("flcollector.export.api")
DAY_NS = 86_400 * 1_000_000_000


@attrs.frozen
class ExportSettings:
    """Where exports go, how long they are kept, how long a request waits, and how many run at once."""

    directory: Path
    retention_days: float = 7.0
    wait_s: float = 2.0
    concurrent: int = 2  # exports written at the same time; more wait their turn
    queued: int = 64  # exports waiting; one more is refused with 503

    @property
    def retention_ns(self) -> int | None:
        """Nanoseconds an export is kept, or None when they are kept forever."""
        return int(self.retention_days * DAY_NS) if self.retention_days > 0 else None


def _number(env: Mapping[str, str], name: str, default: float, parse: Callable[[str], float] = float) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(parse(text.strip()))
        if value < 0:
            raise ValueError("it cannot be negative")
    except ValueError as exc:
        log.error("environment variable %s=%r cannot be read (%s); using %g", name, text, exc, default)
        return default
    return value


def settings_from(env: Mapping[str, str] | None, data_dir: Path) -> ExportSettings:
    """Read the settings from ``env`` (default ``os.environ``) for an agent whose data dir is ``data_dir``."""
    env = os.environ if env is None else env
    configured = Path(env.get("EXPORTS_DIR") or "exports").expanduser()
    directory = configured if configured.is_absolute() else data_dir / configured
    return ExportSettings(
        directory=directory,
        retention_days=_number(env, "EXPORT_RETENTION_DAYS", 7.0),
        wait_s=_number(env, "EXPORT_WAIT", 2.0, Duration.parse),
    )
