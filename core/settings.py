"""Typed settings the core owns: the ``[agent]`` table and the keys common to every instance of a kind."""

from __future__ import annotations

from typing import Literal

import attrs

from .durations import Duration
from .options import option_doc

WhenFull = Literal["block", "drop_oldest", "drop_newest"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


@attrs.define
class AgentSettings:
    """The ``[agent]`` table."""

    experiment: str | None = attrs.field(default=None, metadata=option_doc(
        "stamped on every record; else the FL server's `CONFIG_LOADED` names it",
        default="none", example="exp_2025_001"))
    interval: Duration = attrs.field(default=Duration(5.0), metadata=option_doc(
        "default collection interval of monitors (a number is seconds)"))
    jitter: Duration = attrs.field(default=Duration(0.0), metadata=option_doc(
        "default random delay added before each collection"))
    timeout: Duration | None = attrs.field(default=None, metadata=option_doc(
        "default collection timeout", default="the interval, at least 5 s", example="5s"))
    max_backoff: Duration = attrs.field(default=Duration(60.0), metadata=option_doc(
        "longest wait between retries of a source that is down"))
    data_dir: str = attrs.field(default="./data", metadata=option_doc(
        "where the store, the archive, buffers and exports go (relative paths of components are under it)",
        writes="directory"))
    log_level: LogLevel = attrs.field(default="INFO", metadata=option_doc(
        '`"DEBUG"`, `"INFO"`, `"WARNING"`, `"ERROR"` or `"CRITICAL"`'))
    disable_plugins: list[str] = attrs.field(factory=list, metadata=option_doc(
        'plugins (entry-point names) not to load, e.g. `["dashboard"]`'))
    channel_size: int = attrs.field(default=16, metadata=option_doc(
        "batches queued between the inputs and the processors (bounds memory)"))
    flush_grace: Duration = attrs.field(default=Duration(10.0), metadata=option_doc(
        "how long sinks may take to flush on shutdown"))
    self_metrics_interval: Duration = attrs.field(default=Duration(10.0), metadata=option_doc(
        "how often the agent emits a `flcollector_<kind>` metric per component; `0s` disables them"))
    memory_trim_interval: Duration = attrs.field(default=Duration(60.0), metadata=option_doc(
        "how often the agent runs a full garbage collection and gives freed memory back to the operating system "
        "(glibc `malloc_trim`), so a long run's RSS follows what it holds and ingest bursts do not set off "
        "collections; unless `0s`, glibc's malloc is also set for a long run at start-up (one arena, fixed mmap and "
        "trim thresholds; `MALLOC_*` environment settings win); `0s`: none of this, and CPython collects on its own"))


@attrs.define
class MonitorCommon:
    """Keys every ``[[monitors.*]]`` table accepts; the core owns scheduling."""

    name: str | None = attrs.field(default=None, metadata=option_doc(
        "the instance's name", default="the component's name, numbered if repeated"))
    enabled: bool = attrs.field(default=True, metadata=option_doc("`false` leaves the instance out"))
    interval: Duration | None = attrs.field(default=None, metadata=option_doc(
        "collection interval", default="`[agent] interval`", example="5s"))
    jitter: Duration | None = attrs.field(default=None, metadata=option_doc(
        "random delay added before each collection", default="`[agent] jitter`", example="0s"))
    timeout: Duration | None = attrs.field(default=None, metadata=option_doc(
        "how long one collection may take", default="`[agent] timeout`, else the interval, at least 5 s", example="5s"))


@attrs.define
class SinkCommon:
    """Keys every ``[[sinks.*]]`` table accepts; the core owns buffering and batching."""

    name: str | None = attrs.field(default=None, metadata=option_doc(
        "the instance's name", default="the component's name, numbered if repeated"))
    enabled: bool = attrs.field(default=True, metadata=option_doc("`false` leaves the instance out"))
    batch_size: int = attrs.field(default=1000, validator=attrs.validators.gt(0), metadata=option_doc(
        "records per `write` at most"))
    flush_interval: Duration = attrs.field(default=Duration(1.0), metadata=option_doc(
        "a batch that is not full is written after this long"))
    when_full: WhenFull = attrs.field(default="block", metadata=option_doc(
        "when the sink's buffer is full: `\"block\"` (the pipeline waits), `\"drop_oldest\"` or `\"drop_newest\"` "
        "(counted)"))
    buffer_size: int = attrs.field(default=20_000, validator=attrs.validators.gt(0), metadata=option_doc(
        "records buffered for the sink at most"))
    retries: int = attrs.field(default=2, metadata=option_doc(
        "extra attempts of a failed write before its batch is counted as dropped"))


@attrs.define
class PlainCommon:
    """Keys every ``[[processors.*]]`` and ``[[listeners.*]]`` table accepts."""

    name: str | None = attrs.field(default=None, metadata=option_doc(
        "the instance's name", default="the component's name, numbered if repeated"))
    enabled: bool = attrs.field(default=True, metadata=option_doc("`false` leaves the instance out"))


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
