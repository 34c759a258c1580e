"""Naming the experiment when ``[agent] experiment`` is not set."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


def experiment_name(events: Iterable[dict[str, Any]], start_time: float) -> str:
    """``<model>-<dataset>-<UTC start>`` from a CONFIG_LOADED event among ``events``, else ``fl-<UTC start>``."""
    stamp = datetime.fromtimestamp(float(start_time), UTC).strftime("%Y%m%d-%H%M%S")
    name = f"fl-{stamp}"
    for raw in events:
        details = raw.get("details") if raw.get("event_type") == "CONFIG_LOADED" else None
        summary = details.get("config_summary") if isinstance(details, dict) else None
        if isinstance(summary, dict) and summary.get("model") and summary.get("dataset"):
            name = f"{summary['model']}-{summary['dataset']}-{stamp}"
    return name
