"""The server plugin registers its listener, and its sample.toml shows every option at its default."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files

import attrs
from flcollector.options import build_options
from flcollector.plugins import server as plugin
from flcollector.plugins.server import ServerListener


def test_registers_the_listener() -> None:
    assert plugin.register_listeners() == [ServerListener]
    assert ServerListener.name == "server"


def test_sample_shows_every_option_at_its_default() -> None:
    text = files("flcollector.plugins.server").joinpath("sample.toml").read_text()
    assert tomllib.loads(text) == {"server": {}}
    own = text.split("Keys every listener accepts")[0]
    shown = tomllib.loads("\n".join(m.group(1) for m in re.finditer(r"^# (\w+ = .+?)(?:[ \t]+#.*)?$", own, re.M)))
    assert sorted(shown) == sorted(f.name for f in attrs.fields(ServerListener.Options))
    for example in ("token", "username", "password"):  # default None has no TOML spelling: an example is shown
        assert isinstance(shown.pop(example), str)
    assert build_options(ServerListener.Options, shown) == ServerListener.Options()
