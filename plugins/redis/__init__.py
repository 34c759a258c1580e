"""The ``redis`` sink: latest values in hashes, each record published per stream, optional capped Redis Streams."""

from __future__ import annotations

from flcollector import hookimpl

from .sink import RedisOptions, RedisSink, series_key

__all__ = ["RedisOptions", "RedisSink", "register_sinks", "series_key"]


@hookimpl
def register_sinks() -> list[type]:
    """Provide the ``redis`` sink."""
    return [RedisSink]
