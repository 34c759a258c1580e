"""The ``remote_write`` sink: Prometheus remote-write 1.0 (protobuf, snappy) to Prometheus, Mimir, Thanos receive,
VictoriaMetrics or Cortex, through the remote-sink machinery (buffer, back-off, split and drop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import cramjam
from flcollector import HttpRemoteSink, HttpTarget, Metric, Record, RemoteOptions, auth_headers, check_axes, option_doc

from .naming import Namer, label_name
from .proto import DOUBLE, entry_prefix, timestamp_part

HEADERS = {"Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0"}
CACHE_SIZE = 50_000  # plans kept (cleared when full: a churn of tag sets must not grow memory)
#: One step of a record's plan per field: the entry's bytes before the value, and the factor to base units.
Step = tuple[bytes, float]


@attrs.define
class RemoteWriteOptions(RemoteOptions):
    """Options of the ``remote_write`` sink (plus those of every remote sink)."""

    url: str = attrs.field(default="http://localhost:9090/api/v1/write", metadata=option_doc(
        "the receiver's full URL", set_in_sample=True))
    prefix: str = attrs.field(default="flcollector_", metadata=option_doc(
        "before every series name (as `/metrics` names them)"))
    axis_labels: list[str] = attrs.field(
        factory=lambda: ["source", "experiment"], validator=check_axes,
        metadata=option_doc(
            "record axes as labels (`source`, `experiment`, `round`); `round` makes a new series every round: mind "
            "the cardinality",
        ),
    )
    labels: dict[str, str] = attrs.field(factory=dict, metadata=option_doc(
        'static labels on every series, e.g. `{ job = "lab1" }`'))
    counter_fields: list[str] = attrs.field(factory=lambda: ["*_total"], metadata=option_doc(
        "field names (globs) that are counters; their series end in `_total`"))
    bearer_token: str = attrs.field(default="", metadata=option_doc("`Authorization: Bearer <token>`"))
    username: str = attrs.field(default="", metadata=option_doc("HTTP Basic user"))
    password: str = attrs.field(default="", metadata=option_doc("HTTP Basic password"))


class RemoteWriteSink(HttpRemoteSink):
    """One series per numeric field of each metric; events and string fields are not samples and are skipped."""

    name = "remote_write"
    Options = RemoteWriteOptions

    def __init__(self, options: RemoteWriteOptions, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.namer = Namer(options.prefix, options.counter_fields)
        self.static = [(label_name(k), v) for k, v in options.labels.items()]
        headers = auth_headers(options.bearer_token, options.username, options.password)
        self.http = HttpTarget(options.url, timeout=float(options.timeout), headers=headers, gzip=False)
        self.endpoint = options.url
        #: (name, tags, axes, field names, timestamp length) -> one step per field
        self._plans: dict[tuple[object, ...], list[Step]] = {}

    def _labels(self, metric: Metric) -> tuple[tuple[str, str], ...]:
        """The record's labels (without ``__name__``)."""
        labels = dict(self.static)
        for axis in self.options.axis_labels:
            value = getattr(metric, axis)
            if value is not None and value != "":
                labels[axis] = str(value)
        for key, value in metric.tags.items():
            label = label_name(key)
            if label in labels or label.startswith("__"):
                label = f"tag_{label.lstrip('_')}"
            if value != "":  # an empty label value means "no label" in Prometheus
                labels[label] = value
        return tuple(labels.items())

    def _plan(self, metric: Metric, stamp_length: int) -> list[Step]:
        """Each field's entry prefix and unit factor, for records with this name, tags, axes and field names."""
        labels = self._labels(metric)
        steps = []
        for field in metric.fields:
            name, factor = self.namer.series(metric.name, field)
            steps.append((entry_prefix(name, labels, stamp_length), factor))
        return steps

    def encode(self, batch: Sequence[Record]) -> list[bytes]:
        """One unit per metric with a numeric field: its series serialised as a WriteRequest.

        The hot path: a record's entries are its plan's prefixes (built once per series by the protobuf library,
        see :func:`entry_prefix`) each followed by the value and the timestamp, which records of one poll share.
        """
        units = []
        plans, pack = self._plans, DOUBLE.pack
        stamp_ms, stamp = None, b""
        for record in batch:
            if not isinstance(record, Metric):
                continue
            timestamp_ms = record.time_ns // 1_000_000
            if timestamp_ms != stamp_ms:
                stamp_ms, stamp = timestamp_ms, timestamp_part(timestamp_ms)
            fields = record.fields
            key = (record.name, tuple(record.tags.items()), record.source, record.experiment, record.round,
                   tuple(fields), len(stamp))
            plan = plans.get(key)
            if plan is None:
                if len(plans) >= CACHE_SIZE:
                    plans.clear()
                plan = plans[key] = self._plan(record, len(stamp))
            parts: list[bytes] = []
            for (prefix, factor), value in zip(plan, fields.values(), strict=True):
                if not isinstance(value, str):
                    parts += (prefix, pack(float(value) * factor), stamp)
            if parts:
                units.append(b"".join(parts))
        return units

    async def send(self, units: list[bytes]) -> None:
        """POST one WriteRequest holding every unit, snappy-compressed."""
        body = bytes(cramjam.snappy.compress_raw(b"".join(units)))
        await self.http.post("", body, "remote write", content_type="application/x-protobuf", headers=HEADERS)
