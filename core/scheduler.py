"""Polling one monitor: interval, jitter, timeout, back-off while its source is down, and error isolation.

A collection that overruns its interval is counted (``overruns``) and the missed ticks are skipped, never
stacked. While a source is down the wait grows exponentially (with jitter) up to ``max_backoff``, and exactly one
``SOURCE_UNREACHABLE`` event is emitted when it goes down and one ``SOURCE_RECOVERED`` when it comes back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import trio

from .components import Monitor, Schedule
from .errors import MalformedResponse, SourceUnavailable
from .records import Event, Record, now_ns
from .settings import AgentSettings, MonitorCommon

Emit = Callable[[Sequence[Record]], Awaitable[None]]


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaves(sub)]
    return [exc]


def classify(exc: BaseException) -> str:
    """Return ``"unavailable"``, ``"malformed"`` or ``"error"`` for an exception escaping ``collect()``."""
    leaves = _leaves(exc)
    for leaf in leaves:
        if isinstance(leaf, SourceUnavailable | httpx.TransportError | trio.TooSlowError):
            return "unavailable"
        if isinstance(leaf, httpx.HTTPStatusError) and leaf.response.status_code >= 500:
            return "unavailable"
    if any(isinstance(leaf, MalformedResponse | ValueError | KeyError) for leaf in leaves):
        return "malformed"
    return "error"


def describe(exc: BaseException) -> str:
    """One line naming the cause (the first leaf of an exception group)."""
    leaf = _leaves(exc)[0]
    text = str(leaf) or type(leaf).__name__
    return f"{type(leaf).__name__}: {text}" if type(leaf).__name__ not in text else text


class MonitorRunner:
    """Runs one monitor instance until cancelled."""

    def __init__(self, monitor: Monitor, common: MonitorCommon, agent: AgentSettings, emit: Emit) -> None:
        self.monitor = monitor
        self.runtime = monitor.runtime
        self.stats = monitor.runtime.stats
        schedule = Schedule.resolve(common, agent)  # the same resolution the monitor got in its runtime
        self.interval, self.jitter, self.timeout = schedule.interval, schedule.jitter, schedule.timeout
        self.max_backoff = schedule.max_backoff
        self.emit = emit
        self.down_since_ns: int | None = None

    def _event(self, type_: str, level: str, message: str, **details: Any) -> Event:
        return Event(type=type_, level=level, message=message, source=self.runtime.instance,  # type: ignore[arg-type]
                     details={"monitor": self.runtime.instance, "plugin": self.runtime.plugin, **details})

    async def collect_once(self) -> tuple[list[Record], str | None]:
        """Run one collection with the timeout; return its records (incl. status events) and the failure kind."""
        stats = self.stats
        stats.count("collections")
        started = time.perf_counter()
        records: list[Record] = []
        failure: str | None = None
        error = ""
        try:
            with trio.fail_after(self.timeout):
                records = list(await self.monitor.collect())
        except trio.TooSlowError:
            stats.count("timeouts")
            failure, error = "unavailable", f"timed out after {self.timeout:g}s"
        except Exception as exc:
            failure, error = classify(exc), describe(exc)
            if failure == "error":  # a bug in the plugin: log it with its name and the traceback, then go on
                self.runtime.log.exception("monitor %r raised", self.runtime.instance)
        stats.last_duration_s = time.perf_counter() - started
        stats.count("records_out", len(records))
        records.extend(self._status_events(failure, error))
        return records, failure

    def _status_events(self, failure: str | None, error: str) -> list[Event]:
        stats = self.stats
        if failure == "unavailable":
            first = self.down_since_ns is None
            stats.failure(error, status="down")
            if first:
                self.down_since_ns = now_ns()
                self.runtime.log.warning("source of %r unreachable: %s", self.runtime.instance, error)
                return [self._event("SOURCE_UNREACHABLE", "ERROR", f"{self.runtime.instance}: {error}", error=error)]
            return []
        events: list[Event] = []
        if self.down_since_ns is not None:
            downtime = (now_ns() - self.down_since_ns) / 1e9
            self.down_since_ns = None
            self.runtime.log.info("source of %r recovered after %.1fs", self.runtime.instance, downtime)
            events.append(self._event("SOURCE_RECOVERED", "INFO", f"{self.runtime.instance} recovered",
                                      downtime_s=downtime))
        if failure == "malformed":
            stats.count("malformed")
            stats.failure(error, status="ok")
            events.append(self._event("MALFORMED_RESPONSE", "ERROR", f"{self.runtime.instance}: {error}", error=error))
        elif failure == "error":
            stats.count("errors")
            stats.failure(error, status="error")
            events.append(self._event("PLUGIN_ERROR", "ERROR", f"{self.runtime.instance}: {error}", error=error))
        else:
            stats.success()
        return events

    def backoff(self) -> float:
        """Seconds to wait before the next attempt while the source is down (exponential, with full jitter)."""
        failures = max(self.stats.consecutive_failures, 1)
        ceiling = min(self.interval * 2 ** (failures - 1), self.max_backoff)
        return random.uniform(self.interval, max(ceiling, self.interval))

    async def run(self) -> None:
        """Collect every interval until cancelled."""
        next_at = trio.current_time() + random.uniform(0, self.jitter)
        while True:
            await trio.sleep_until(next_at)
            records, failure = await self.collect_once()
            if records:
                await self.emit(records)
            now = trio.current_time()
            if failure == "unavailable":
                next_at = now + self.backoff()
                continue
            next_at += self.interval
            if next_at <= now:  # overran: skip the missed ticks instead of stacking collections
                skipped = int((now - next_at) // self.interval) + 1
                self.stats.count("overruns", skipped)
                next_at += skipped * self.interval
            next_at += random.uniform(0, self.jitter)
