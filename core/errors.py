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
