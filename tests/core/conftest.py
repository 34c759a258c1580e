"""Fixtures of the core tests: a config builder that registers the in-process test plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from core_fakes import MemorySink, TestPlugin
from flcollector.config import Config, load_config
from flcollector.loader import load_registry


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """Write ``text`` to a TOML file and load it with the test plugin registered (env ignored)."""

    def build(text: str, env: dict[str, str] | None = None, overrides: dict[str, Any] | None = None) -> Config:
        MemorySink.instances.clear()
        path = tmp_path / "test.toml"
        path.write_text(f'[agent]\ndata_dir = "{tmp_path / "data"}"\n' + text)
        registry = load_registry(extra=[("testplugin", TestPlugin())])
        return load_config(path, env=env or {}, overrides=overrides, registry=registry)

    return build
