"""PLUGINS.md documents every hook and every built-in component, and every built-in has a sample config."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from flcollector.hookspecs import HOOKS
from flcollector.loader import ENTRY_POINT_GROUP, load_registry

ROOT = Path(__file__).resolve().parents[2]
PLUGINS_MD = (ROOT / "PLUGINS.md").read_text(encoding="utf-8")
REGISTRY = load_registry()
BUILTINS = [p for p in REGISTRY.plugins.values() if p.origin == "built-in"]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook: str) -> None:
    assert f"### `{hook}(" in PLUGINS_MD, f"PLUGINS.md has no section for the hook {hook}"


def test_builtins_all_load() -> None:
    failed = {p.name: p.error for p in BUILTINS if p.error}
    assert not failed, f"built-in plugins failed to import: {failed}"
    assert len(BUILTINS) >= 9, f"expected the built-ins of the {ENTRY_POINT_GROUP!r} entry-point group"


@pytest.mark.parametrize("plugin", [p.name for p in BUILTINS])
def test_every_builtin_has_a_section_and_a_valid_sample(plugin: str) -> None:
    info = REGISTRY.plugins[plugin]
    for kind, names in info.components.items():
        for name in names:
            assert f"## {name}" in PLUGINS_MD or f"`{name}`" in PLUGINS_MD, f"PLUGINS.md lacks {kind} {name}"
    sample = ROOT / "plugins" / plugin / "sample.toml"
    assert sample.exists(), f"plugins/{plugin}/sample.toml is missing"
    tomllib.loads(sample.read_text(encoding="utf-8"))  # parses


def test_samples_pass_flcollector_check(tmp_path: Path) -> None:
    """Every sample that configures components validates against the real plugins."""
    from flcollector.config import load_config

    for sample in sorted((ROOT / "plugins").glob("*/sample.toml")):
        text = sample.read_text(encoding="utf-8")
        if not any(line.strip().startswith("[") for line in text.splitlines()):
            continue  # a sample of an exporter has no table to check
        config = load_config(sample, env={}, registry=REGISTRY)
        assert config.components or "[agent]" in text, f"{sample} enables nothing"


def test_the_route_table_names_the_module_of_every_route() -> None:
    """PLUGINS.md's "Where each route lives" lists exactly the served routes, each with the module serving it."""
    from flcollector.plugins import dashboard
    from flcollector.plugins.export.routes import ROUTES as EXPORT_ROUTES
    from flcollector.plugins.rounds.routes import ROUTES as ROUNDS_ROUTES
    from flcollector.plugins.server.routes import SPEC_ROUTES
    from flcollector.plugins.websocket import WebSocketOptions
    from starlette.routing import Route

    expected = {f"WS {WebSocketOptions().path}": "plugins/websocket/sink.py"}
    for route in [*SPEC_ROUTES, *dashboard.ROUTES, *EXPORT_ROUTES, *ROUNDS_ROUTES]:
        assert isinstance(route, Route)
        module = route.endpoint.__module__.removeprefix("flcollector.").replace(".", "/") + ".py"
        assert (ROOT / module).exists(), module
        for method in (route.methods or set()) - {"HEAD"}:
            expected[f"{method} {route.path}"] = module
    table = PLUGINS_MD.split("## Where each route lives", 1)[1]
    documented = dict(re.findall(r"^\| `((?:GET|POST|WS) [^`]+)` \| `([^`]+)`", table, re.M))
    assert documented == expected
