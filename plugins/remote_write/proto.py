"""Prometheus remote-write 1.0 messages (``prometheus.WriteRequest``), built with the protobuf library at import.

The schema is Prometheus' ``prompb`` (``remote.proto``/``types.proto``), reduced to what remote-write 1.0 sends:
``WriteRequest { repeated TimeSeries timeseries = 1; }``, ``TimeSeries { repeated Label labels = 1; repeated Sample
samples = 2; }``, ``Label { string name = 1; string value = 2; }``, ``Sample { double value = 1; int64 timestamp = 2;
}`` (milliseconds). Building the descriptor here spares a generated ``_pb2`` module and a protoc step. A serialised
WriteRequest is the concatenation of its ``timeseries`` entries, so the serialisations of two requests, joined, are
one request holding both: each record is encoded once, and any run of them is a valid body. See
:func:`entry_prefix` for the fast path.
"""

from __future__ import annotations

import struct
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


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


#: A sample's value as protobuf writes a double (fixed 64 bits, little-endian).
DOUBLE = struct.Struct("<d")


def timestamp_part(timestamp_ms: int) -> bytes:
    """A sample's timestamp field (number 2, a varint; negative times as protobuf writes an int64)."""
    return b"\x10" + _varint(timestamp_ms & 0xFFFFFFFFFFFFFFFF)


def entry_prefix(name: str, labels: tuple[tuple[str, str], ...], stamp_length: int) -> bytes:
    """The bytes of a one-sample ``WriteRequest.timeseries`` entry up to its sample's value.

    That is the entry's tag and length, the labels (``__name__`` and ``labels``, sorted as Prometheus requires,
    serialised by the protobuf library), and the sample's tag, length and value tag. ``prefix +
    DOUBLE.pack(value) + stamp`` is the whole entry for any ``stamp = timestamp_part(ms)`` of ``stamp_length``
    bytes, so a sink builds the prefix once per series and frames each sample around it.
    """
    series = TimeSeries()
    for label, value in sorted((("__name__", name), *labels)):
        series.labels.add(name=label, value=value)
    labels_part = bytes(series.SerializeToString())
    sample_length = 1 + DOUBLE.size + stamp_length
    sample_head = b"\x12" + _varint(sample_length)
    return (b"\x0a" + _varint(len(labels_part) + len(sample_head) + sample_length) + labels_part + sample_head
            + b"\x09")

