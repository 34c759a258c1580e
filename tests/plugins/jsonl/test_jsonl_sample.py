"""The jsonl plugin registers its sink, and its sample.toml shows every option at its default."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files

import attrs
from flcollector.options import build_options
from flcollector.plugins import jsonl as plugin
from flcollector.plugins.jsonl import JsonlSink


def test_registers_the_sink() -> None:
    assert plugin.register_sinks() == [JsonlSink]


def test_sample_enables_the_sink_and_shows_every_option_at_its_default() -> None:
    text = files("flcollector.plugins.jsonl").joinpath("sample.toml").read_text()
    assert tomllib.loads(text) == {"sinks": {"jsonl": [{}]}}
    own = text.split("Keys every sink accepts")[0]
    shown = tomllib.loads("\n".join(m.group(1) for m in re.finditer(r"^# (\w+ = .+?)(?:\s+#.*)?$", own, re.M)))
    assert sorted(shown) == sorted(f.name for f in attrs.fields(JsonlSink.Options))
    assert build_options(JsonlSink.Options, shown) == JsonlSink.Options()
