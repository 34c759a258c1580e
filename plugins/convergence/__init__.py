"""The ``convergence`` plugin: derives per-round convergence metrics and events from the FL round metrics."""

from __future__ import annotations

from flcollector import hookimpl

from .processor import ConvergenceProcessor


@hookimpl
def register_processors() -> list[type]:
    """Register the ``convergence`` processor."""
    return [ConvergenceProcessor]
