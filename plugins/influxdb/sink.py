"""The ``influxdb`` sink: line protocol over HTTP to InfluxDB 1.x (``/write``), 2.x/3.x and VictoriaMetrics
(``/api/v2/write``), gzipped, through the remote-sink machinery (buffer, back-off, split and drop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs
from flcollector import (
    AXES,
    HttpRemoteSink,
    HttpTarget,
    Record,
    RemoteOptions,
    RemoteUnavailable,
    auth_headers,
    check_axes,
    option_doc,
)

from .encode import LineEncoder

V1_PRECISION = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}


@attrs.define
class InfluxOptions(RemoteOptions):
    """Options of the ``influxdb`` sink (plus those of every remote sink)."""

    url: str = attrs.field(default="http://localhost:8086", metadata=option_doc("the server", set_in_sample=True))
    api: Literal["auto", "v1", "v2"] = attrs.field(default="auto", metadata=option_doc(
        '`"v1"`, `"v2"`, or `"auto"` (v2 when `org` or `bucket` is set)'))
    database: str = attrs.field(default="flcollector", metadata=option_doc("v1: the database"))
    retention_policy: str = attrs.field(default="", metadata=option_doc(
        "v1: the retention policy; empty: the database's default"))
    username: str = attrs.field(default="", metadata=option_doc("v1, HTTP Basic"))
    password: str = attrs.field(default="", metadata=option_doc("v1, HTTP Basic"))
    create_database: bool = attrs.field(default=True, metadata=option_doc(
        "v1: `CREATE DATABASE` at start-up and on a 404"))
    token: str = attrs.field(default="", metadata=option_doc(
        "v2 (and InfluxDB 1.8+/3): `Authorization: Token <token>`"))
    org: str = attrs.field(default="", metadata=option_doc("v2: the organisation"))
    bucket: str = attrs.field(default="", metadata=option_doc("v2: the bucket"))
    precision: Literal["ns", "us", "ms", "s"] = attrs.field(default="ns", metadata=option_doc(
        '`"ns"`, `"us"`, `"ms"` or `"s"`'))
    axis_tags: list[str] = attrs.field(factory=lambda: list(AXES), validator=check_axes, metadata=option_doc(
        "record axes written as tags"))
    integers: Literal["float", "integer"] = attrs.field(default="float", metadata=option_doc(
        '`"float"` or `"integer"` (`5i`); float avoids field type conflicts'))
    string_fields: bool = attrs.field(default=True, metadata=option_doc("keep string fields"))
    events_measurement: str = attrs.field(default="flcollector_events", metadata=option_doc("where events go"))
    gzip: bool = attrs.field(default=True, metadata=option_doc("compress bodies"))


class InfluxSink(HttpRemoteSink):
    """Writes every record as a line of line protocol; see PLUGINS.md for the mapping."""

    name = "influxdb"
    Options = InfluxOptions

    def __init__(self, options: InfluxOptions, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.v2 = options.api == "v2" or (options.api == "auto" and bool(options.org or options.bucket))
        self.encoder = LineEncoder(
            precision=options.precision, axis_tags=tuple(options.axis_tags), integers=options.integers,
            strings=options.string_fields, events_measurement=options.events_measurement,
        )
        headers = auth_headers(options.token, options.username, options.password, scheme="Token")
        self.http = HttpTarget(options.url, timeout=float(options.timeout), headers=headers, gzip=options.gzip)
        if self.v2:
            self.path = "/api/v2/write"
            self.params = {"org": options.org, "bucket": options.bucket, "precision": options.precision}
        else:
            self.path = "/write"
            self.params = {"db": options.database, "precision": V1_PRECISION[options.precision]}
            if options.retention_policy:
                self.params["rp"] = options.retention_policy
        self.endpoint = f"{self.http.base_url}{self.path}"

    def encode(self, batch: Sequence[Record]) -> list[bytes]:
        """One line per record (a metric without a writable field is left out)."""
        line = self.encoder.line
        return [encoded for encoded in map(line, batch) if encoded is not None]

    async def probe(self) -> None:
        """``/ping`` must answer; with v1 and ``create_database``, make sure the database exists."""
        await self.http.request("GET", "/ping", "InfluxDB /ping")
        if not self.v2 and self.options.create_database:
            await self._create_database()

    async def _create_database(self) -> None:
        name = self.options.database.replace("\\", "\\\\").replace('"', '\\"')
        await self.http.request("POST", "/query", "InfluxDB CREATE DATABASE", params={"q": f'CREATE DATABASE "{name}"'})
        self.log.info("database %r exists on %s", self.options.database, self.http.base_url)

    async def send(self, units: list[bytes]) -> None:
        """POST the lines; a v1 404 (no such database) creates it once, then retries."""
        body = b"\n".join(units)
        try:
            await self.http.post(self.path, body, f"InfluxDB {self.path}", content_type="text/plain; charset=utf-8",
                                 params=self.params)
        except RemoteUnavailable as exc:
            if self.v2 or not self.options.create_database or exc.status != 404:
                raise
            await self._create_database()
            await self.http.post(self.path, body, f"InfluxDB {self.path}", content_type="text/plain; charset=utf-8",
                                 params=self.params)
