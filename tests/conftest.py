"""Shared fixtures: runtimes for components under test, and loopback-only helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flcollector import RunContext, Runtime
from flcollector.options import build_options
from flcollector.stats import StatsRegistry


@pytest.fixture
def stats_registry() -> StatsRegistry:
    """A fresh registry of component stats."""
    return StatsRegistry()


@pytest.fixture
def run_context() -> RunContext:
    """A fresh run context (no experiment, no round)."""
    return RunContext()


@pytest.fixture
def make_component(
    tmp_path: Path, stats_registry: StatsRegistry, run_context: RunContext
) -> Callable[..., Any]:
    """Build a component the way the core does: validate ``options`` against ``cls.Options``, then instantiate.

    Usage: ``sink = make_component(SqliteSink, {"retention": "7d"})``; data goes under ``tmp_path``.
    """

    def build(cls: type, options: dict[str, Any] | None = None, instance: str | None = None, agent: Any = None) -> Any:
        name = instance or cls.name
        runtime = Runtime(
            instance=name,
            plugin=cls.name,
            log=logging.getLogger(f"flcollector.{cls.kind}.{name}"),
            stats=stats_registry.register(cls.kind, name, cls.name),
            context=run_context,
            data_dir=tmp_path / "data",
            agent=agent,
        )
        runtime.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(build_options(cls.Options, options or {}), runtime)

    return build
