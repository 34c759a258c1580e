"""The ``influxdb`` sink: every record as InfluxDB line protocol (v1 ``/write`` or v2 ``/api/v2/write``)."""

from __future__ import annotations

from flcollector import hookimpl

from .encode import LineEncoder
from .sink import InfluxOptions, InfluxSink

__all__ = ["InfluxOptions", "InfluxSink", "LineEncoder", "register_sinks"]


@hookimpl
def register_sinks() -> list[type]:
    """Provide the ``influxdb`` sink."""
    return [InfluxSink]
