"""Naming the experiment when ``[agent] experiment`` is not set, and the event reporting one bad endpoint."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flcollector import EndpointError, Event


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


def problem_event(instance: str, url: str, error: EndpointError, **fields: Any) -> Event:
    """The ERROR event for one bad endpoint: ``MALFORMED_RESPONSE``, or ``ENDPOINT_ERROR`` for a server error."""
    return Event(
        type="MALFORMED_RESPONSE" if error.malformed else "ENDPOINT_ERROR",
        level="ERROR",
        message=f"{instance}: {error.endpoint}: {error.reason}",
        source=instance,
        details={"monitor": instance, "endpoint": error.endpoint, "url": url, "error": error.reason},
        **fields,
    )
