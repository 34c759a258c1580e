"""Plugins: entry-point loading, name clashes, blocking, and a real third-party distribution."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from flcollector import Monitor, hookimpl
from flcollector.errors import PluginError
from flcollector.loader import load_registry


class _Clash:
    name = "scripted"
    kind = "monitor"


class ClashPlugin:
    @hookimpl
    def register_monitors(self) -> list[type]:
        return [_Clash]


def test_component_provided_twice_names_both_plugins() -> None:
    from core_fakes import TestPlugin

    expected = "monitor 'scripted' is provided twice: by plugin 'first' and by plugin 'second'"
    with pytest.raises(PluginError, match=expected):
        load_registry(extra=[("first", TestPlugin()), ("second", ClashPlugin())])


def test_blocked_plugin_is_listed_but_not_loaded() -> None:
    from core_fakes import TestPlugin

    registry = load_registry(blocked=["testplugin"], extra=[("testplugin", TestPlugin())])
    assert registry.plugins["testplugin"].blocked
    assert registry.get("monitor", "scripted") is None


def test_misspelled_hookimpl_fails_at_start() -> None:
    class Typo:
        @hookimpl
        def register_monitor(self) -> list[type]:  # missing "s"
            return [Monitor]

    with pytest.raises(Exception, match="register_monitor"):
        load_registry(extra=[("typo", Typo())])


PLUGIN_SOURCE = '''
"""A throw-away third-party plugin."""
import attrs
from flcollector import Metric, Monitor, hookimpl


@attrs.define
class Options:
    value: float = 1.0


class ConstantMonitor(Monitor):
    """Emits one constant metric."""

    name = "constant"
    Options = Options

    async def collect(self):
        return [Metric(name="constant", fields={"value": self.options.value}, source="third-party")]


@hookimpl
def register_monitors():
    return [ConstantMonitor]
'''


def _install_distribution(tmp_path: Path, target: Path, name: str, module: str, source: str) -> None:
    """Build and install a one-module plugin distribution into ``target`` (a folder put on PYTHONPATH)."""
    project = tmp_path / name
    (project / module).mkdir(parents=True)
    (project / module / "__init__.py").write_text(source)
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "{name}"
        version = "1.2.3"
        [project.entry-points.flcollector]
        {module.removeprefix("flc_")} = "{module}"
        [tool.setuptools]
        packages = ["{module}"]
    """))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(project)],
        check=True, capture_output=True,
    )


@pytest.mark.slow
def test_external_plugin_distribution_runs_through_an_ordinary_config(tmp_path: Path) -> None:
    target = tmp_path / "site"
    _install_distribution(tmp_path, target, "flc-constant", "flc_constant", PLUGIN_SOURCE)
    _install_distribution(tmp_path, target, "flc-broken", "flc_broken", 'raise ImportError("needs libfoo")\n')
    config = tmp_path / "third.toml"
    config.write_text('[[monitors.constant]]\nvalue = 42.5\n')
    env = {**os.environ, "PYTHONPATH": str(target)}
    listing = subprocess.run([sys.executable, "-m", "flcollector", "plugins", "--json"],
                             env=env, check=True, capture_output=True, timeout=60)
    plugins = {p["name"]: p for p in orjson.loads(listing.stdout)}
    assert plugins["constant"]["origin"] == "flc-constant 1.2.3"
    assert plugins["constant"]["components"] == {"monitor": ["constant"]}
    once = subprocess.run([sys.executable, "-m", "flcollector", "once", "-c", str(config)],
                          env=env, check=True, capture_output=True, timeout=60)
    records = [orjson.loads(line) for line in once.stdout.splitlines()]
    assert [r["fields"]["value"] for r in records if r["kind"] == "metric"] == [42.5]
    # a plugin whose import fails is listed with its error, and the others still work
    assert plugins["broken"]["error"] == "ImportError: needs libfoo"
    config.write_text("[[monitors.broken]]\n")
    failed = subprocess.run([sys.executable, "-m", "flcollector", "check", "-c", str(config)],
                            env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2
    assert "unknown monitor 'broken'" in failed.stderr and "broken (ImportError: needs libfoo)" in failed.stderr
