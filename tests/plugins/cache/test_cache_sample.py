"""The cache plugin registers its sink, and its sample.toml shows every option at its default."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files

import attrs
from flcollector.options import build_options
from flcollector.plugins import cache as plugin
from flcollector.plugins.cache import RecentCache


def test_registers_the_sink() -> None:
    assert plugin.register_sinks() == [RecentCache]


def test_sample_enables_the_sink_and_shows_every_option_at_its_default() -> None:
    text = files("flcollector.plugins.cache").joinpath("sample.toml").read_text()
    assert tomllib.loads(text) == {"sinks": {"cache": [{}]}}
    own = text.split("Keys every sink accepts")[0]
    shown = tomllib.loads("\n".join(m.group(1) for m in re.finditer(r"^# (\w+ = .+?)(?:\s+#.*)?$", own, re.M)))
    assert sorted(shown) == sorted(f.name for f in attrs.fields(RecentCache.Options))
    assert build_options(RecentCache.Options, shown) == RecentCache.Options()
