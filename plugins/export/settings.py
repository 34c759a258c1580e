"""Options of ``[[listeners.export]]``: where exports go, how long they are kept, how long a request waits.

Checked at start-up like every component's options (a bad value names the file, the table and the key, and the
agent exits 2); the spec's variables ``EXPORTS_DIR``, ``EXPORT_RETENTION_DAYS`` and ``EXPORT_WAIT`` override them
through the config's one precedence place (``flcollector.config``), where a bad value names the variable.
"""

from __future__ import annotations

from pathlib import Path

import attrs
from flcollector import Duration, option_doc

DAY_NS = 86_400 * 1_000_000_000


@attrs.define
class ExportOptions:
    """Options of the ``export`` listener (the export API's background service)."""

    directory: str = attrs.field(default="exports", metadata=option_doc(
        "where exports are written; a relative path is under `[agent] data_dir`; the container's is `/app/exports`",
        writes="directory"))
    retention_days: float = attrs.field(default=7.0, validator=attrs.validators.ge(0), metadata=option_doc(
        "days an export is kept after it was requested (decimals allowed; `0` keeps them); then it is deleted"))
    wait: Duration = attrs.field(default=Duration(2.0), metadata=option_doc(
        "how long `POST /api/v1/export` waits for the export before answering `running`"))
    concurrent: int = attrs.field(default=2, validator=attrs.validators.gt(0), metadata=option_doc(
        "exports written at the same time; more wait their turn"))
    queued: int = attrs.field(default=64, validator=attrs.validators.gt(0), metadata=option_doc(
        "exports waiting at most; one more is refused with 503"))


@attrs.frozen
class ExportSettings:
    """The options resolved for one agent: the exports directory as a path."""

    directory: Path
    retention_days: float = 7.0
    wait_s: float = 2.0
    concurrent: int = 2  # exports written at the same time; more wait their turn
    queued: int = 64  # exports waiting; one more is refused with 503

    @classmethod
    def resolve(cls, options: ExportOptions, data_dir: Path) -> ExportSettings:
        """``options`` for an agent whose data dir is ``data_dir`` (a relative directory is under it)."""
        configured = Path(options.directory).expanduser()
        directory = configured if configured.is_absolute() else data_dir / configured
        return cls(directory, options.retention_days, float(options.wait), options.concurrent, options.queued)

    @property
    def retention_ns(self) -> int | None:
        """Nanoseconds an export is kept, or None when they are kept forever."""
        return int(self.retention_days * DAY_NS) if self.retention_days > 0 else None
