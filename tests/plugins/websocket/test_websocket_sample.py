"""The websocket plugin registers its sink, and its sample.toml shows every option at its default."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files

import attrs
from flcollector.options import build_options
from flcollector.plugins import websocket as plugin
from flcollector.plugins.websocket import WebSocketSink


def test_registers_the_sink() -> None:
    assert plugin.register_sinks() == [WebSocketSink]
    assert WebSocketSink.name == "websocket"


def test_sample_shows_every_option_at_its_default() -> None:
    text = files("flcollector.plugins.websocket").joinpath("sample.toml").read_text()
    # Live streaming wants these two core keys set; the sample sets them, as every shipped config does.
    assert tomllib.loads(text) == {"sinks": {"websocket": [{"flush_interval": "20ms", "when_full": "drop_oldest"}]}}
    own = text.split("Keys every sink accepts")[0]
    shown = tomllib.loads("\n".join(m.group(1) for m in re.finditer(r"^# (\w+ = .+?)(?:[ \t]+#.*)?$", own, re.M)))
    assert sorted(shown) == sorted(f.name for f in attrs.fields(WebSocketSink.Options))
    assert build_options(WebSocketSink.Options, shown) == WebSocketSink.Options()
