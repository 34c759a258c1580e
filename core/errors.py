"""Exceptions with a meaning to the core: config errors (exit 2), plugin errors, and source failures."""

from __future__ import annotations


class FlcollectorError(Exception):
    """Base class of every error the core reports to a user."""


class ConfigError(FlcollectorError):
    """A bad config: names the file, the table path and the key, and lists what is known. Exit code 2."""

    def __init__(self, file: str, message: str, table: str = "", key: str = "", known: list[str] | None = None):
        self.file, self.table, self.key, self.known = file, table, key, list(known or [])
        where = file
        if table:
            where += f": [{table}]"
        if key:
            where += f" key '{key}'"
        text = f"{where}: {message}"
        if self.known:
            text += f" (known: {', '.join(self.known)})"
        super().__init__(text)


class PluginError(FlcollectorError):
    """A plugin cannot be loaded or registered (import failure, name clash); names the plugin(s)."""


class SourceUnavailable(FlcollectorError):
    """Raised by a monitor when its source cannot be reached (down, refused, timed out, HTTP 5xx).

    The scheduler backs off exponentially while a source stays unavailable and emits one SOURCE_UNREACHABLE
    event when it goes down and one SOURCE_RECOVERED event when it comes back.
    """


class MalformedResponse(FlcollectorError):
    """Raised by a monitor when a source answered, but not with the shape expected.

    It becomes an error Event and a ``malformed`` counter; the monitor keeps its normal interval.
    """


class StartupError(FlcollectorError):
    """The agent cannot start as configured (the store or the archive cannot be opened for writing): names the path
    and the cause. Exit code 2, like a config error: nothing ran."""


class StorageError(FlcollectorError):
    """Raised by a sink whose storage cannot write now (disk full, read-only, locked, gone): nothing of the batch was
    written. The core retries the batch with back-off (never splits it: the records are not to blame), marks the
    sink failing, and records a ``STORAGE_FAILED`` event (a ``STORAGE_RECOVERED`` one when it writes again).
    An ``OSError`` from a sink's ``write`` is treated the same way."""


class RecordsRejected(FlcollectorError):
    """Raised by a sink's ``write`` after it wrote every record of the batch but the ones in ``rejected``:
    ``(index in the batch, reason)`` pairs. The core counts them as ``rejected`` and ``dropped`` and logs them; the
    rest of the batch counts as written."""

    def __init__(self, rejected: list[tuple[int, str]]) -> None:
        first = rejected[0][1] if rejected else ""
        super().__init__(f"{len(rejected)} records rejected (first: {first})")
        self.rejected = rejected
