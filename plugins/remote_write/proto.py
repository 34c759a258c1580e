"""Prometheus remote-write 1.0 messages (``prometheus.WriteRequest``), built with the protobuf library at import.

The schema is Prometheus' ``prompb`` (``remote.proto``/``types.proto``), reduced to what remote-write 1.0 sends:
``WriteRequest { repeated TimeSeries timeseries = 1; }``, ``TimeSeries { repeated Label labels = 1; repeated Sample
samples = 2; }``, ``Label { string name = 1; string value = 2; }``, ``Sample { double value = 1; int64 timestamp = 2;
}`` (milliseconds). Building the descriptor here spares a generated ``_pb2`` module and a protoc step. A serialised
WriteRequest is the concatenation of its ``timeseries`` entries, so the serialisations of two requests, joined, are
one request holding both: each record is encoded once, and any run of them is a valid body.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_FIELD = descriptor_pb2.FieldDescriptorProto


def _message(file: descriptor_pb2.FileDescriptorProto, name: str, fields: list[tuple[str, int, int, int, str]]) -> None:
    message = file.message_type.add(name=name)
    for field_name, number, type_, label, type_name in fields:
        field = message.field.add(name=field_name, number=number, type=type_, label=label)
        if type_name:
            field.type_name = type_name


def _build() -> dict[str, Any]:
    file = descriptor_pb2.FileDescriptorProto(name="flcollector_prompb.proto", package="prometheus", syntax="proto3")
    optional, repeated = _FIELD.LABEL_OPTIONAL, _FIELD.LABEL_REPEATED
    _message(file, "Label", [("name", 1, _FIELD.TYPE_STRING, optional, ""),
                             ("value", 2, _FIELD.TYPE_STRING, optional, "")])
    _message(file, "Sample", [("value", 1, _FIELD.TYPE_DOUBLE, optional, ""),
                              ("timestamp", 2, _FIELD.TYPE_INT64, optional, "")])
    _message(file, "TimeSeries", [("labels", 1, _FIELD.TYPE_MESSAGE, repeated, ".prometheus.Label"),
                                  ("samples", 2, _FIELD.TYPE_MESSAGE, repeated, ".prometheus.Sample")])
    _message(file, "WriteRequest", [("timeseries", 1, _FIELD.TYPE_MESSAGE, repeated, ".prometheus.TimeSeries")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"prometheus.{name}"))
            for name in ("WriteRequest", "TimeSeries")}


_CLASSES = _build()
#: ``prometheus.WriteRequest``; ``WriteRequest.FromString(body)`` reads one back (tests, doubles).
WriteRequest: Any = _CLASSES["WriteRequest"]
TimeSeries: Any = _CLASSES["TimeSeries"]


def encode_series(series: list[tuple[list[tuple[str, str]], float, int]]) -> bytes:
    """Serialise ``[(sorted labels, value, timestamp_ms), ...]`` as a WriteRequest (one sample per series)."""
    request = WriteRequest()
    for labels, value, timestamp_ms in series:
        entry = request.timeseries.add()
        for name, label_value in labels:
            entry.labels.add(name=name, value=label_value)
        entry.samples.add(value=value, timestamp=timestamp_ms)
    return bytes(request.SerializeToString())
