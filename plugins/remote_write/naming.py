"""Prometheus names for records: ``<prefix><name>_<field>`` in base units, ``_total`` on counters, safe labels.

- Invalid characters become ``_``; a name starting with a digit gets a leading ``_``.
- Time fields are converted to seconds, Prometheus' base unit: ``rtt_ms`` becomes ``rtt_seconds`` (value / 1000);
  likewise ``_us``, ``_ns``, and ``_s``/``_sec``/``_secs``.
- A field matching ``counter_fields`` (default ``*_total``) is a counter and ends in ``_total``.
- Tags become labels; one that clashes with a reserved (``__*``) or axis label is written as ``tag_<name>``.
"""

from __future__ import annotations

import fnmatch
import re

_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")
#: unit suffix -> (the base-unit suffix, the factor to it)
UNITS: dict[str, tuple[str, float]] = {
    "_ms": ("_seconds", 1e-3), "_us": ("_seconds", 1e-6), "_ns": ("_seconds", 1e-9),
    "_s": ("_seconds", 1.0), "_sec": ("_seconds", 1.0), "_secs": ("_seconds", 1.0),
}


def metric_name(text: str) -> str:
    """A valid Prometheus metric name."""
    clean = _INVALID.sub("_", text)
    return f"_{clean}" if clean[:1].isdigit() or not clean else clean


def label_name(text: str) -> str:
    """A valid Prometheus label name."""
    clean = _INVALID_LABEL.sub("_", text)
    return f"_{clean}" if clean[:1].isdigit() or not clean else clean


class Namer:
    """Names series for one sink's settings; results are cached per (record name, field)."""

    def __init__(self, prefix: str, counter_fields: list[str]) -> None:
        self.prefix = prefix
        self.counter_fields = counter_fields
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    def series(self, name: str, field: str) -> tuple[str, float]:
        """``(metric name, factor to apply to the value)`` for field ``field`` of records named ``name``."""
        key = (name, field)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        base, factor = field, 1.0
        for suffix, (unit, unit_factor) in UNITS.items():
            if field.endswith(suffix) and len(field) > len(suffix):
                base, factor = field[: -len(suffix)] + unit, unit_factor
                break
        full = metric_name(f"{self.prefix}{name}_{base}")
        if any(fnmatch.fnmatchcase(field, pattern) for pattern in self.counter_fields) and not full.endswith("_total"):
            full += "_total"
        if len(self._cache) < 100_000:  # names come from config and code, but bound it anyway
            self._cache[key] = (full, factor)
        return full, factor
