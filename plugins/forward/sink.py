"""The ``forward`` sink: records to another flcollector's ``POST /api/v1/ingest`` (a node agent to the central one).

Every metric gets the node's identity as tags (``node``, and ``client`` on an FL client's node), every event the
same keys in its details, unless the record already has them. The central agent stores them like its own
records, so its ``client_metrics`` and system views show every node. Bodies are the ingest API's JSON
(``{"metrics": [...], "events": [...]}``, the record dicts), gzipped; the token is sent as a bearer token.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import attrs
import orjson
from flcollector import (
    Event,
    HttpRemoteSink,
    HttpTarget,
    Record,
    RemoteOptions,
    RemoteUnavailable,
    auth_headers,
    option_doc,
    record_to_dict,
)

INGEST = "/api/v1/ingest"


@attrs.define
class ForwardOptions(RemoteOptions):
    """Options of the ``forward`` sink (plus those of every remote sink)."""

    url: str = attrs.field(default="http://localhost:8083", metadata=option_doc(
        "the central agent's base URL", set_in_sample=True))
    token: str = attrs.field(default="", metadata=option_doc("the central's `[server] token` (bearer)"))
    username: str = attrs.field(default="", metadata=option_doc("or its HTTP Basic user"))
    password: str = attrs.field(default="", metadata=option_doc("and password"))
    node: str = attrs.field(default="", metadata=option_doc("this node's name (tag `node`)", default="the host name"))
    client: str = attrs.field(default="", metadata=option_doc(
        'the FL client on this node (tag `client`), e.g. `"client_1"`'))
    gzip: bool = attrs.field(default=True, metadata=option_doc("compress bodies"))


class ForwardSink(HttpRemoteSink):
    """Posts batches to the central agent's ingest API with this node's identity added."""

    name = "forward"
    Options = ForwardOptions

    def __init__(self, options: ForwardOptions, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.identity = {"node": options.node or socket.gethostname()}
        if options.client:
            self.identity["client"] = options.client
        headers = auth_headers(options.token, options.username, options.password)
        self.http = HttpTarget(options.url, timeout=float(options.timeout), headers=headers, gzip=options.gzip)
        self.endpoint = f"{self.http.base_url}{INGEST}"

    def encode(self, batch: Sequence[Record]) -> list[bytes]:
        """``m`` or ``e`` followed by the record's JSON, with the identity added."""
        units = []
        identity = self.identity
        for record in batch:
            data = record_to_dict(record)
            if isinstance(record, Event):
                data["details"] = identity | dict(record.details)
                units.append(b"e" + orjson.dumps(data))
            else:
                data["tags"] = identity | dict(record.tags)
                units.append(b"m" + orjson.dumps(data))
        return units

    async def probe(self) -> None:
        """The central's ``/health`` must answer (it is open without auth); an unhealthy central still counts."""
        try:
            await self.http.request("GET", "/health", "central /health")
        except RemoteUnavailable as exc:
            if exc.unreachable or exc.status != 503:  # 503: the central answers, it is only degraded
                raise

    async def send(self, units: list[bytes]) -> None:
        """POST one ingest document holding every unit."""
        await self.http.post(INGEST, ingest_document(units), "central /api/v1/ingest", content_type="application/json")


def ingest_document(units: list[bytes]) -> bytes:
    """The ingest API's JSON body (``{"metrics": [...], "events": [...]}``) holding ``units`` from ``encode``."""
    metrics = b",".join(u[1:] for u in units if u[:1] == b"m")
    events = b",".join(u[1:] for u in units if u[:1] == b"e")
    return b'{"metrics":[' + metrics + b'],"events":[' + events + b"]}"
