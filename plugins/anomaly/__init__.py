"""The ``anomaly`` plugin: flags samples that leave their recent range or cross the spec's thresholds."""

from __future__ import annotations

from flcollector import hookimpl

from .processor import AnomalyProcessor


@hookimpl
def register_processors() -> list[type]:
    """Register the ``anomaly`` processor."""
    return [AnomalyProcessor]
