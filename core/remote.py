"""The machinery every remote sink shares: a send queue (memory or disk), delivery with back-off, split and drop.

A remote sink (``influxdb``, ``remote_write``, ``redis``, ``forward``) subclasses :class:`RemoteSink` and writes
two methods: ``encode(batch)`` turns records into units (one per record, or none for a record it cannot carry) and
``send(units)`` delivers units in one request, raising :class:`RemoteUnavailable` (retry later) or
:class:`RemoteRejected` (retrying cannot fix it). The core does the rest:

- ``write`` only queues the encoded batch; with ``buffer = "disk"`` it is on disk before ``write`` returns.
- The delivery task sends whole frames (the sink's batches, coalesced while a backlog waits, up to
  ``max_request_records`` and ``max_request_bytes``), one request at a time, and acknowledges them only after the
  remote's 2xx: at-least-once, duplicates bounded to the frames in flight.
- Unavailable (refused, timed out, 5xx, 429, a wrong token or database): retried forever with exponential back-off
  and jitter while the queue holds the backlog; ``when_full`` decides once it is full.
- Rejected (400, 413, 422): the request is split in halves until the bad record is alone; it is dropped, counted
  (``dropped``, ``rejected``) and logged with the remote's reason. The good records still arrive.
- Status for ``/health``: ``remote_status`` healthy | unhealthy | unreachable, ``backlog_records``,
  ``backlog_bytes`` and ``oldest_unsent_age_s`` (see :meth:`RemoteSink.report`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
import trio

from .backoff import Backoff
from .components import Runtime, Sink
from .diskqueue import DiskQueue
from .durations import Duration
from .options import option_doc
from .records import Record, now_ns
from .sendqueue import MemoryQueue, SendQueue
from .settings import SinkCommon

MiB = 1 << 20
#: The record axes a remote sink can write as tags or labels.
AXES = ("source", "experiment", "round")


def check_axes(_instance: object, attribute: attrs.Attribute, value: list[str]) -> None:
    """attrs validator: every item is one of :data:`AXES` (a clean message for the config error)."""
    for item in value:
        if item not in AXES:
            raise ValueError(f"'{attribute.name}' must list only {', '.join(AXES)}; got {item!r}")


class RemoteUnavailable(Exception):
    """The remote cannot take the request now (down, overloaded, misconfigured); the request is retried.

    ``unreachable`` is True when nothing answered (refused, timed out); ``retry_after`` is the remote's hint;
    ``status`` the HTTP status when there was one.
    """

    def __init__(self, reason: str, *, unreachable: bool = False, retry_after: float = 0.0,
                 status: int | None = None) -> None:
        super().__init__(reason)
        self.unreachable = unreachable
        self.retry_after = retry_after
        self.status = status


class RemoteRejected(Exception):
    """The remote refused the request's content for good (400, 413, 422): split it, or drop the one bad record."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


@attrs.define
class RemoteOptions:
    """Options every remote sink has (its own options class adds its fields after these)."""

    buffer: Literal["memory", "disk"] = attrs.field(default="memory", metadata=option_doc(
        "`\"memory\"` or `\"disk\"` (acknowledged only after the remote's 2xx; replayed after restarts)"))
    max_bytes: int = attrs.field(default=256 * MiB, validator=attrs.validators.gt(0), metadata=option_doc(
        "the backlog's budget; past it, `when_full` decides", default="`268435456` (256 MiB)"))
    directory: str | None = attrs.field(default=None, metadata=option_doc(
        "the disk buffer's folder (relative paths are under `data_dir`)", default="`<data_dir>/buffers/<instance>`",
        example="buffers/central", writes="directory"))
    buffer_fsync: bool = attrs.field(default=True, metadata=option_doc(
        "force each queued batch and each acknowledgement to disk (a power cut loses nothing queued); `false` "
        "still survives a crash of the agent"))
    max_request_bytes: int = attrs.field(default=4 * MiB, validator=attrs.validators.gt(0), metadata=option_doc(
        "uncompressed bytes per request; bigger backlogs go in several requests"))
    max_request_records: int = attrs.field(default=5000, validator=attrs.validators.gt(0), metadata=option_doc(
        "records per request while a backlog waits (queued batches coalesced)"))
    timeout: Duration = attrs.field(default=Duration(10.0), metadata=option_doc("per request"))
    backoff_initial: Duration = attrs.field(default=Duration(0.5), metadata=option_doc(
        "the first wait after a failed request; it doubles up to `backoff_max`"))
    backoff_max: Duration = attrs.field(default=Duration(30.0), metadata=option_doc(
        "the longest wait between failed requests"))


class RemoteSink(Sink):
    """Base of the sinks that deliver to another service; see the module docstring."""

    Options = RemoteOptions
    #: Where the records go, for ``/health`` and logs (set by the subclass, e.g. the URL).
    endpoint: str = ""

    def __init__(self, options: Any, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.stats = runtime.stats
        self.queue: SendQueue | None = None
        self.when_full = "block"
        self.remote_status = "unknown"  # healthy | unhealthy | unreachable, once a request was made
        self.backoff = Backoff(float(options.backoff_initial), float(options.backoff_max))

    # -- what a subclass writes ---------------------------------------------------------------------------------

    def encode(self, batch: Sequence[Record]) -> list[bytes]:
        """Return one unit per record this sink carries (records it cannot carry are left out)."""
        raise NotImplementedError

    async def send(self, units: list[bytes]) -> None:
        """Deliver ``units`` in one request; raise RemoteUnavailable or RemoteRejected."""
        raise NotImplementedError

    async def connect(self) -> None:
        """Open clients (called by ``open``, after the queue recovered)."""

    async def disconnect(self) -> None:
        """Close clients (called by ``close``)."""

    async def probe(self) -> None:
        """Check the remote answers (a ping); raise RemoteUnavailable when it does not. Called once by ``open``."""

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def bind(self, common: SinkCommon) -> None:
        """Take the core-owned keys this sink needs (``when_full``); called by the sink runner."""
        self.when_full = common.when_full
        if self.queue is not None:
            self.queue.when_full = common.when_full

    def buffer_directory(self) -> Path:
        """Where the disk buffer lives."""
        configured = self.options.directory
        if configured:
            path = Path(configured).expanduser()
            return path if path.is_absolute() else self.runtime.data_dir / path
        return self.runtime.data_dir / "buffers" / self.runtime.instance

    async def open(self) -> None:
        """Open the queue (recovering a disk backlog), then the client."""
        options = self.options
        if options.buffer == "disk":
            self.queue = DiskQueue(self.buffer_directory(), options.max_bytes, self.when_full, self.stats, self.log,
                                   fsync=options.buffer_fsync)
        else:
            self.queue = MemoryQueue(options.max_bytes, self.when_full, self.stats, self.log)
        await self.queue.open()
        self.stats.live = self.report
        await self.connect()
        try:
            await self.probe()
        except RemoteUnavailable as exc:  # a remote that is down at start-up is what the buffer is for
            self.remote_status = "unreachable" if exc.unreachable else "unhealthy"
            self.stats.failure(str(exc), status="down" if exc.unreachable else "error")
            self.log.warning("%s is %s at start-up (%s); records are buffered until it answers", self.endpoint,
                             self.remote_status, exc)
        else:
            self.remote_status = "healthy"

    async def close(self) -> None:
        """Close the client and the queue; a memory backlog still held is counted as dropped."""
        await self.disconnect()
        if self.queue is None:
            return
        pending = self.queue.pending_records
        if pending and self.options.buffer == "memory":
            self.stats.count("dropped", pending)
            self.log.error("%d records not delivered to %s are lost (buffer = \"memory\")", pending, self.endpoint)
        elif pending:
            self.log.warning("%d records for %s stay in the disk buffer for the next run", pending, self.endpoint)
        await self.queue.close()

    async def write(self, batch: Sequence[Record]) -> None:
        """Encode ``batch`` and queue it (on disk first with ``buffer = "disk"``)."""
        assert self.queue is not None, "write() before open()"
        units = self.encode(batch)
        if len(units) < len(batch):
            self.stats.count("skipped", len(batch) - len(units))
        await self.queue.put(units, len(units))

    def finish(self) -> None:
        """No more batches will come: the delivery task returns once the backlog is delivered."""
        if self.queue is not None:
            self.queue.close_input()

    # -- delivery -----------------------------------------------------------------------------------------------

    async def deliver(self) -> None:
        """Send what the queue holds until :meth:`finish` was called and all was delivered (or cancelled)."""
        queue = self.queue
        assert queue is not None, "deliver() before open()"
        while True:
            taken = await queue.take(self.options.max_request_records, self.options.max_request_bytes)
            if taken is None:
                return
            await self._deliver_all(taken.units)
            await queue.ack()

    async def _deliver_all(self, units: list[bytes]) -> None:
        parts = [units]
        while parts:
            part = parts.pop()
            try:
                await self._send_until_accepted(part)
            except RemoteRejected as exc:
                if len(part) > 1:  # halve it: the bad record ends up alone, the good ones still arrive
                    self.stats.count("splits")
                    half = len(part) // 2
                    parts += [part[half:], part[:half]]
                    continue
                self.stats.count("dropped")
                self.stats.count("rejected")
                self.log.error("%s refused a record for good, dropped: %s", self.endpoint, exc)

    async def _send_until_accepted(self, units: list[bytes]) -> None:
        while True:
            started = time.perf_counter()
            try:
                await self.send(units)
            except RemoteUnavailable as exc:
                self.stats.count("errors")
                self.stats.count("retries")
                status = "unreachable" if exc.unreachable else "unhealthy"
                self.stats.failure(str(exc), status="down" if exc.unreachable else "error")
                delay = self.backoff.next_delay(exc.retry_after)
                if self.remote_status != status or self.backoff.failures == 1:
                    self.log.warning("%s is %s (%s); retrying in %.1fs, the backlog is kept", self.endpoint,
                                     status, exc, delay)
                self.remote_status = status
                await trio.sleep(delay)
                continue
            if self.backoff.failures:
                self.log.info("%s accepts records again after %d failed attempts", self.endpoint,
                              self.backoff.failures)
            self.backoff.reset()
            self.remote_status = "healthy"
            self.stats.last_duration_s = time.perf_counter() - started
            self.stats.count("requests")
            self.stats.count("records_out", len(units))
            self.stats.success()
            return

    def report(self) -> dict[str, Any]:
        """The live status for ``/health`` and the self-metrics (flat keys; the numbers are gauges)."""
        queue = self.queue
        oldest = queue.oldest_ns if queue is not None else None
        return {
            "remote_status": self.remote_status,
            "endpoint": self.endpoint,
            "buffer": self.options.buffer,
            "backlog_records": queue.pending_records if queue is not None else 0,
            "backlog_bytes": queue.pending_bytes if queue is not None else 0,
            "oldest_unsent_age_s": max(0.0, (now_ns() - oldest) / 1e9) if oldest is not None else 0.0,
        }
