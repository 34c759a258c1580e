"""The ``cache`` sink: bounded recent records per metric name and event type, for instant "latest" answers."""

from __future__ import annotations

from flcollector import hookimpl

from .cache import CacheOptions, RecentCache

__all__ = ["CacheOptions", "RecentCache", "register_sinks"]


@hookimpl
def register_sinks() -> list[type]:
    """Provide the ``cache`` sink."""
    return [RecentCache]
