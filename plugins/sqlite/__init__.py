"""The ``sqlite`` sink: the embedded store (one file, WAL, indexed) that the API answers from."""

from __future__ import annotations

from flcollector import hookimpl

from .store import SqliteOptions, SqliteStore
from .writer import StoreWriteError

__all__ = ["SqliteOptions", "SqliteStore", "StoreWriteError", "register_sinks"]


@hookimpl
def register_sinks() -> list[type]:
    """Provide the ``sqlite`` store sink."""
    return [SqliteStore]
