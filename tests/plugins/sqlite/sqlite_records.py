"""Record builders shared by the sqlite tests."""

from __future__ import annotations

from typing import Any

from flcollector import Metric

T0 = 1_764_300_000_123_456_789  # nanosecond precision that a float would lose


def metric(name: str, i: int, **kw: Any) -> Metric:
    """A metric named ``name`` with value ``i`` at ``T0 + i`` ns from source "host" (``kw`` overrides)."""
    base: dict[str, Any] = {"fields": {"value": float(i)}, "time_ns": T0 + i, "source": "host"}
    return Metric(name=name, **(base | kw))
