"""The anomaly rules: a z-score against the window, plus the spec's fixed thresholds.

Each rule looks at one new sample and the window of samples before it, and returns a :class:`Finding` (or None).
Rules are plain functions so the processor can keep its hot loop free of dispatch machinery.
"""

from __future__ import annotations

import attrs
import numpy as np

from .window import SeriesWindow

#: Order of precedence when several rules fire on one sample: the explicit thresholds name the problem best.
RULE_ORDER = ("above", "below", "spike", "drop", "zscore")


@attrs.frozen
class Finding:
    """One rule that fired: its name, the limit it crossed, whether the excess counts as severe, and (for the drop
    rule) the level it dropped from: the mean of the earlier samples."""

    rule: str
    threshold: float
    severe: bool
    reference: float | None = None


@attrs.frozen
class FieldRules:
    """The rules that apply to one ``metric.field``; ``None`` disables a rule.

    ``ratio`` makes the field derived: ``fields[numerator] / fields[denominator]`` (the participation of an FL round,
    clients that succeeded over clients selected), for a field the metric does not carry itself.
    """

    field: str
    zscore: bool = False
    above: float | None = None
    below: float | None = None
    spike: float | None = None
    drop: float | None = None
    ratio: tuple[str, str] | None = None


def zscore_finding(z: float, z_threshold: float, severe_z: float) -> Finding:
    """The z-score rule, once ``|z| >= z_threshold`` is known (the processor tests that inline: it is the hot path)."""
    return Finding("zscore", z_threshold, abs(z) >= severe_z)


def check_above(value: float, limit: float) -> Finding | None:
    """Fire when ``value`` exceeds ``limit`` (packet loss, CPU); severe at twice the limit."""
    if value <= limit:
        return None
    return Finding("above", limit, limit > 0 and value >= 2 * limit)


def check_below(value: float, limit: float) -> Finding | None:
    """Fire when ``value`` falls under ``limit`` (client participation); severe at half the limit."""
    if value >= limit:
        return None
    return Finding("below", limit, value <= limit / 2)


def check_spike(value: float, mean: float, delta: float) -> Finding | None:
    """Fire when ``value`` exceeds the window mean by ``delta`` (the spec's 100 ms latency spike)."""
    if value - mean <= delta:
        return None
    return Finding("spike", delta, value - mean >= 2 * delta)


def check_drop(window: SeriesWindow, value: float, span: int, delta: float) -> Finding | None:
    """Fire when the mean of the last ``span`` samples is ``delta`` below the mean of the ``span`` before them.

    This is the spec's accuracy-drop rule (10 points over 5 rounds). It reads the ring in order, which is cheap
    because only slow series (one sample per FL round) carry it.
    """
    if len(window) + 1 < 2 * span:
        return None
    recent = np.append(window.ordered()[-(2 * span - 1) :], value)
    before = float(recent[:span].mean())
    dropped = before - float(recent[span:].mean())
    if dropped <= delta:
        return None
    return Finding("drop", delta, dropped >= 2 * delta, before)
