"""Durations in config files are strings such as ``"250ms"``, ``"5s"``, ``"2m"``, ``"1h"`` or ``"7d"``."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d)?\s*$")


class Duration(float):
    """Seconds, as a float; config files spell them as strings with a unit (a bare number means seconds)."""

    @classmethod
    def parse(cls, value: object) -> Duration:
        """Parse ``"5s"``-style strings or plain non-negative numbers; raise ``ValueError`` naming the problem."""
        if isinstance(value, bool):
            raise ValueError(f"expected a duration like '5s', got {value!r}")
        if isinstance(value, int | float):
            if value < 0:
                raise ValueError(f"a duration cannot be negative, got {value!r}")
            return cls(value)
        if isinstance(value, str):
            match = _PATTERN.match(value)
            if match:
                number, unit = match.groups()
                return cls(float(number) * _UNITS[unit or "s"])
        raise ValueError(f"expected a duration like '250ms', '5s', '2m', '1h' or '7d', got {value!r}")

    def __repr__(self) -> str:
        return f"Duration({float(self)!r})"
