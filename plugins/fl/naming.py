"""Naming the experiment when ``[agent] experiment`` is not set; judging and reporting bad answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flcollector import Event, MalformedResponse, SourceUnavailable

from .client import Answer


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


def problems(answers: Iterable[Answer], invalid_events: int, invalid_rows: int) -> list[tuple[str, str, str]]:
    """(endpoint, "malformed" | "http", reason) for every endpoint that answered badly in one poll."""
    found = [(a.endpoint, a.problem or "", a.reason) for a in answers if not a.ok]
    if invalid_events:
        found.append(("/events", "malformed", f"{invalid_events} events without an event_id or type"))
    if invalid_rows:
        found.append(("/rounds", "malformed", f"{invalid_rows} rows without a round number or timestamp"))
    return found


def problem_event(instance: str, url: str, endpoint: str, problem: str, reason: str, **fields: Any) -> Event:
    """The ERROR event for one bad endpoint: ``MALFORMED_RESPONSE`` or ``ENDPOINT_ERROR`` (HTTP 4xx/5xx)."""
    return Event(
        type="MALFORMED_RESPONSE" if problem == "malformed" else "ENDPOINT_ERROR",
        level="ERROR",
        message=f"{instance}: {endpoint}: {reason}",
        source=instance,
        details={"monitor": instance, "endpoint": endpoint, "url": url, "error": reason},
        **fields,
    )


def raise_if_unavailable(url: str, answers: Iterable[Answer]) -> None:
    """Raise ``SourceUnavailable`` when the server is down, ``MalformedResponse`` when every answer is nonsense.

    Down: refused or timed out anywhere, 5xx on ``/health`` (the server says it is unhealthy), or 4xx/5xx everywhere.
    """
    answers = list(answers)
    down = [a for a in answers if a.problem == "down" or (a.endpoint == "/health" and a.reason.startswith("HTTP 5"))]
    if down:
        raise SourceUnavailable(f"{url}{down[0].endpoint}: {down[0].reason}")
    if len(answers) > 1 and all(not a.ok for a in answers):
        reasons = "; ".join(sorted({f"{a.endpoint}: {a.reason}" for a in answers}))
        if any(a.problem == "http" for a in answers):
            raise SourceUnavailable(f"{url}: every endpoint failed ({reasons})")
        raise MalformedResponse(f"{url}: every endpoint answered nonsense ({reasons})")
