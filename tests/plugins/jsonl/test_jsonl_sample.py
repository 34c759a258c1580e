"""The jsonl plugin registers its sink, and its sample.toml shows every option at its default."""

from __future__ import annotations

from flcollector.plugins import jsonl as plugin
from flcollector.plugins.jsonl import JsonlSink


def test_registers_the_sink() -> None:
    assert plugin.register_sinks() == [JsonlSink]
