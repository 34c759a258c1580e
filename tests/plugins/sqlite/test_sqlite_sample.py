"""The sqlite plugin registers its sink, and its sample.toml shows every option at its default."""

from __future__ import annotations

from flcollector.plugins import sqlite as plugin
from flcollector.plugins.sqlite import SqliteStore


def test_registers_the_sink() -> None:
    assert plugin.register_sinks() == [SqliteStore]
