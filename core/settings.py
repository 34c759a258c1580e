"""Typed settings the core owns: the ``[agent]`` table and the keys common to every instance of a kind."""

from __future__ import annotations

from typing import Literal

import attrs

from .durations import Duration

WhenFull = Literal["block", "drop_oldest", "drop_newest"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


@attrs.define
class AgentSettings:
    """The ``[agent]`` table."""

    experiment: str | None = None  # stamped on every record; else the FL server's CONFIG_LOADED names it
    interval: Duration = Duration(5.0)  # default collection interval of monitors
    jitter: Duration = Duration(0.0)  # default random delay added before each collection
    timeout: Duration | None = None  # default collection timeout (None: the interval, at least 5 s)
    max_backoff: Duration = Duration(60.0)  # longest wait between retries of a source that is down
    data_dir: str = "./data"
    log_level: LogLevel = "INFO"
    disable_plugins: list[str] = attrs.field(factory=list)
    channel_size: int = 16  # batches queued between the inputs and the processors (bounds memory)
    flush_grace: Duration = Duration(10.0)  # how long sinks may take to flush on shutdown
    self_metrics_interval: Duration = Duration(10.0)  # 0 disables self-metrics records
    memory_trim_interval: Duration = Duration(60.0)  # how often freed memory goes back to the OS (glibc); 0: never


@attrs.define
class MonitorCommon:
    """Keys every ``[[monitors.*]]`` table accepts; the core owns scheduling."""

    name: str | None = None  # instance name (default: the monitor's name, numbered if repeated)
    enabled: bool = True
    interval: Duration | None = None  # default: [agent] interval
    jitter: Duration | None = None
    timeout: Duration | None = None


@attrs.define
class SinkCommon:
    """Keys every ``[[sinks.*]]`` table accepts; the core owns buffering and batching."""

    name: str | None = None
    enabled: bool = True
    batch_size: int = attrs.field(default=1000, validator=attrs.validators.gt(0))
    flush_interval: Duration = Duration(1.0)
    when_full: WhenFull = "block"
    buffer_size: int = attrs.field(default=20_000, validator=attrs.validators.gt(0))
    retries: int = 2  # extra attempts of a failed write before its batch is counted as dropped


@attrs.define
class PlainCommon:
    """Keys every ``[[processors.*]]`` and ``[[listeners.*]]`` table accepts."""

    name: str | None = None
    enabled: bool = True


COMMON_BY_KIND: dict[str, type] = {
    "monitor": MonitorCommon,
    "sink": SinkCommon,
    "processor": PlainCommon,
    "listener": PlainCommon,
}

#: config section -> component kind
SECTIONS: dict[str, str] = {
    "monitors": "monitor",
    "processors": "processor",
    "sinks": "sink",
    "listeners": "listener",
}
