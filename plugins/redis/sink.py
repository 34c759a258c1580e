"""The ``redis`` sink: the live state of the lab in Redis, for other services to read or subscribe to.

Per record, in one pipelined round trip per batch (the synchronous client in a worker thread: ``redis.asyncio``
does not run under Trio):

- metrics: the latest record of each series in the hash ``<prefix>:latest`` (field ``name,tag=value,...``);
  events: the latest of each type in ``<prefix>:latest_events``;
- ``PUBLISH`` on ``<prefix>:<stream>`` for each stream the record belongs to (``fl_training``,
  ``network_performance``, ``policy_events``, ``system``, ``alerts``: the WebSocket API's streams);
- optionally ``XADD`` to the capped stream ``<prefix>:stream:<stream>`` (``MAXLEN ~ stream_maxlen``).

Every value is the record's JSON (``record_to_dict`` plus ``kind``), as the ingest API and the archive have it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import orjson
import redis
import trio
from flcollector import Metric, Record, RemoteOptions, RemoteSink, RemoteUnavailable, option_doc, record_to_dict
from flcollector.plugins.websocket.streams import classify

CACHE_SIZE = 50_000  # unit heads kept (cleared when full: a churn of tags must not grow memory)
SEP = b"\x00"  # between a unit's kind+streams, its latest-hash field, and its JSON (JSON never holds a raw NUL)


@attrs.define
class RedisOptions(RemoteOptions):
    """Options of the ``redis`` sink (plus those of every remote sink)."""

    url: str = attrs.field(default="redis://localhost:6379/0", metadata=option_doc(
        "`redis://[:password@]host:port/db`", set_in_sample=True))
    prefix: str = attrs.field(default="flcollector", metadata=option_doc("before every key and channel"))
    latest: bool = attrs.field(default=True, metadata=option_doc(
        "keep the hashes `<prefix>:latest` (per series) and `<prefix>:latest_events` (per event type)"))
    publish: bool = attrs.field(default=True, metadata=option_doc(
        "`PUBLISH` every record on `<prefix>:<stream>` (`fl_training`, `network_performance`, `policy_events`, "
        "`system`, `alerts`)"))
    stream: bool = attrs.field(default=False, metadata=option_doc(
        "`XADD` every record to `<prefix>:stream:<stream>` (`MAXLEN ~ stream_maxlen`)"))
    stream_maxlen: int = attrs.field(default=100_000, validator=attrs.validators.gt(0), metadata=option_doc(
        "approximate cap of each stream (`MAXLEN ~`)"))


def series_key(metric: Metric) -> str:
    """The field of a metric's series in the latest hash: ``name,tag=value,...`` (tags sorted)."""
    tags = "".join(f",{k}={v}" for k, v in sorted(metric.tags.items()))
    return f"{metric.name}{tags}".replace("\x00", "")


def unit_head(record: Record) -> bytes:
    """A unit's part before the JSON: ``m`` or ``e``, the record's streams, and its field in the latest hash."""
    _, streams = classify(record)
    kind, field = (b"m", series_key(record)) if isinstance(record, Metric) else (b"e", record.type)
    return SEP.join((kind + ",".join(sorted(streams)).encode(), field.encode(), b""))


class RedisSink(RemoteSink):
    """Latest values, pub/sub and optional streams in Redis; see the module docstring."""

    name = "redis"
    Options = RedisOptions

    def __init__(self, options: RedisOptions, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.client: redis.Redis | None = None
        host = options.url.rsplit("@", 1)[-1]  # never show a password in /health or logs
        self.endpoint = host if "://" in host else f"redis://{host}"
        self._heads: dict[tuple[object, ...], bytes] = {}  # a series' or event kind's unit head

    def encode(self, batch: Sequence[Record]) -> list[bytes]:
        """``<m|e><streams>\\0<latest field>\\0<JSON>`` per record (the part before the JSON cached per series)."""
        units = []
        heads = self._heads
        dumps = orjson.dumps
        for record in batch:
            if isinstance(record, Metric):
                key: tuple[object, ...] = (record.name, tuple(record.tags.items()))
            else:
                key = (record.type, record.level, record.source)
            head = heads.get(key)
            if head is None:
                if len(heads) >= CACHE_SIZE:
                    heads.clear()
                head = heads[key] = unit_head(record)
            units.append(head + dumps(record_to_dict(record)))
        return units

    async def connect(self) -> None:
        """Create the client (connections are made on first use)."""
        timeout = float(self.options.timeout)
        self.client = redis.Redis.from_url(self.options.url, socket_timeout=timeout, socket_connect_timeout=timeout)

    async def disconnect(self) -> None:
        """Close the client's connections."""
        if self.client is not None:
            await trio.to_thread.run_sync(self.client.close)
            self.client = None

    async def probe(self) -> None:
        """``PING``."""
        await self._run(lambda client: client.ping())

    async def send(self, units: list[bytes]) -> None:
        """Run the batch's commands in one pipeline, in a worker thread."""
        await self._run(lambda client: self._pipeline(client, units))

    async def _run(self, call: Any) -> Any:
        assert self.client is not None, "send() before open()"
        client = self.client
        try:
            return await trio.to_thread.run_sync(call, client)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise RemoteUnavailable(f"Redis {self.endpoint}: {type(exc).__name__}: {exc}", unreachable=True) from None
        except redis.RedisError as exc:  # auth, OOM, a key of the wrong type: the operator's to fix; keep the data
            raise RemoteUnavailable(f"Redis {self.endpoint}: {type(exc).__name__}: {exc}") from None

    def _pipeline(self, client: redis.Redis, units: list[bytes]) -> None:
        options = self.options
        prefix = options.prefix
        latest: dict[bytes, bytes] = {}
        latest_events: dict[bytes, bytes] = {}
        pipe = client.pipeline(transaction=False)
        for unit in units:
            head, field, data = unit.split(SEP, 2)
            (latest if head[:1] == b"m" else latest_events)[field] = data  # the batch's last one wins
            for stream in head[1:].decode().split(","):
                if options.publish:
                    pipe.publish(f"{prefix}:{stream}", data)
                if options.stream:
                    pipe.xadd(f"{prefix}:stream:{stream}", {"data": data}, maxlen=options.stream_maxlen,
                              approximate=True)
        if options.latest and latest:
            pipe.hset(f"{prefix}:latest", mapping=latest)  # type: ignore[arg-type]
        if options.latest and latest_events:
            pipe.hset(f"{prefix}:latest_events", mapping=latest_events)  # type: ignore[arg-type]
        pipe.execute()
