"""The ``policy`` monitor: governance decisions, policy counts and engine events from the FLOPY-NET policy engine.

Every poll: ``/health`` (the main endpoint: down or 5xx means the source is unavailable), then concurrently
``/api/v1/metrics`` (``/metrics`` when 404), ``/api/v1/policy_decisions`` (incremental by time, paged, deduplicated
by decision id and time), ``/api/v1/policy_metrics`` (the newest hourly point) and ``/events`` (incremental by
cursor, deduplicated by event id, safe when the engine resets its cursor or restarts). Answers are judged by the one
model of :mod:`flcollector.sources`. At start the monitor recalls from the store the decisions and events it stored
before (by their ``origin_id``), so a collector restart stores nothing the engine still keeps a second time. State is
committed only when the records are returned, so a poll that is cut short (timeout, source gone mid-poll) is simply
repeated: nothing is skipped and nothing stored twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import httpx
from flcollector import (
    EndpointError,
    EventQuery,
    HttpClient,
    Metric,
    Monitor,
    Record,
    Runtime,
    SeenIds,
    endpoint_error_event,
    gather_endpoints,
    get_json,
    now_ns,
    option_doc,
    settle,
)

from . import convert, fetch

#: Seconds of overlap when asking for decisions newer than the last one seen (dedup by id absorbs it).
DECISION_OVERLAP_S = 5.0
#: Ids remembered for deduplication: twice what the engine keeps (1000 decisions, 500 events). More would only fill
#: for longer: at the soak's 1.5 decisions a second, 20,000 ids took 3.7 hours to fill, memory growing all along.
SEEN_CAPACITY = 2_000


@attrs.define
class PolicyOptions:
    """Options of the ``policy`` monitor."""

    url: str = attrs.field(default="http://policy-engine:5000", metadata=option_doc("base URL of the policy engine"))
    page_size: int = attrs.field(default=500, validator=attrs.validators.ge(1), metadata=option_doc(
        "decisions / events asked for per request; full pages are followed"))
    max_pages: int = attrs.field(default=20, validator=attrs.validators.ge(1), metadata=option_doc(
        "requests per endpoint per poll at most, so a flood cannot make one poll endless (the rest comes next "
        "poll)"))
    policy_metrics: bool = attrs.field(default=True, metadata=option_doc("also read `/api/v1/policy_metrics`"))


class PolicyMonitor(Monitor):
    """Polls the policy engine; see the module docstring."""

    name = "policy"
    Options = PolicyOptions

    def __init__(self, options: PolicyOptions, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.options: PolicyOptions = options
        self.client: httpx.AsyncClient | None = None
        self.seen_decisions = SeenIds(SEEN_CAPACITY)
        self.seen_events = SeenIds(SEEN_CAPACITY)
        self.last_decision_ts: float | None = None
        self.event_cursor: str | None = None
        self.own = {"allowed": 0, "denied": 0}
        self.metrics_path = "/api/v1/metrics"

    async def open(self) -> None:
        """Create the HTTP client; a request may take as long as the whole collection (the core bounds the poll)."""
        timeout = httpx.Timeout(self.runtime.schedule.timeout)
        self.client = HttpClient(base_url=self.options.url.rstrip("/"), timeout=timeout)
        store = self.runtime.agent.store if self.runtime.agent is not None else None
        if store is not None:  # None in unit tests: start empty
            await self._recall(store)

    async def _recall(self, store: Any) -> None:
        """Remember the decisions and engine events stored before (newest last), the decision time and the cursor."""
        stored = await store.query_events(EventQuery(source=convert.SOURCE, limit=SEEN_CAPACITY, order="desc"))
        for event in reversed(stored):
            if event.type == "POLICY_DECISION":
                self.seen_decisions.add_all([convert.decision_id(event.details)])
                stamp = convert.decision_time(event.details)
                self.last_decision_ts = max(stamp, self.last_decision_ts or stamp)
            elif event.origin_id is not None:
                self.seen_events.add_all([event.origin_id])
                self.event_cursor = event.origin_id
        self.log.info("recalled %d decisions and %d engine events", len(self.seen_decisions), len(self.seen_events))

    async def close(self) -> None:
        """Close the HTTP client."""
        if self.client is not None:
            await self.client.aclose()

    async def collect(self) -> Iterable[Record]:
        """Poll once and return the new records."""
        if self.client is None:
            await self.open()
        assert self.client is not None
        health: Any
        try:
            health = await get_json(self.client, "/health", main=True, expect=dict)
        except EndpointError as exc:  # an answer, but not the expected one: the engine is up
            health = exc
        jobs = {"metrics": self._metrics, "decisions": self._decisions, "events": self._events}
        if self.options.policy_metrics:
            jobs["policy_metrics"] = self._policy_metrics
        results = await gather_endpoints(jobs)
        results["health"] = health
        failed = settle(results)  # nothing usable at all: one report, from the core
        records = self._build(results)
        records.extend(endpoint_error_event(self.runtime, error) for error in failed.values())
        self._commit(results)
        return records

    # -- fetching (no state changes here) ---------------------------------------------------------------------

    async def _metrics(self) -> Mapping[str, Any]:
        assert self.client is not None
        body, self.metrics_path = await fetch.metrics(self.client, self.metrics_path)
        return body

    async def _decisions(self) -> list[Mapping[str, Any]]:
        assert self.client is not None
        since = None if self.last_decision_ts is None else self.last_decision_ts - DECISION_OVERLAP_S
        return await fetch.decisions(
            self.client, since, self.seen_decisions, self.options.page_size, self.options.max_pages
        )

    async def _events(self) -> list[Mapping[str, Any]]:
        assert self.client is not None
        return await fetch.events(self.client, self.event_cursor, self.options.page_size, self.options.max_pages)

    async def _policy_metrics(self) -> list[Any]:
        assert self.client is not None
        return await fetch.hourly_points(self.client)

    # -- building records, then committing state ---------------------------------------------------------------

    def _new_decisions(self, results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        decisions = results.get("decisions")
        if not isinstance(decisions, list):
            return []
        return [d for d in decisions if convert.decision_id(d) not in self.seen_decisions]

    def _new_events(self, results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        events = results.get("events")
        if not isinstance(events, list):
            return []
        fresh: dict[str, Mapping[str, Any]] = {}
        for event in events:  # a reset cursor serves old events again, possibly twice in one poll
            key = str(event["id"])
            if key not in self.seen_events and key not in fresh:
                fresh[key] = event
        return list(fresh.values())

    def _build(self, results: Mapping[str, Any]) -> list[Record]:
        now = now_ns()
        decisions = self._new_decisions(results)
        records: list[Record] = [convert.decision_event(d) for d in decisions]
        records.extend(convert.engine_event(e) for e in self._new_events(results))
        new_allowed = sum(1 for d in decisions if convert.is_allowed(d))
        new_denied = len(decisions) - new_allowed
        own = {
            "allowed": self.own["allowed"] + new_allowed,
            "denied": self.own["denied"] + new_denied,
            "new_allowed": new_allowed,
            "new_denied": new_denied,
        }
        metrics = results.get("metrics")
        metrics = metrics if isinstance(metrics, Mapping) else None
        health = results.get("health") if isinstance(results.get("health"), Mapping) else None
        if metrics is not None:
            fields = convert.policy_count_fields(metrics, health)
            if fields:
                records.append(Metric("policy_count", fields, now, source=convert.SOURCE))
        if metrics is not None or isinstance(results.get("decisions"), list):
            decision_fields = convert.decision_count_fields(metrics, own)
            hourly = results.get("policy_metrics")
            point = convert.latest_hourly(hourly, "decision_count") if isinstance(hourly, list) else None
            for key in ("avg_evaluation_time_ms", "unique_requesters"):
                if point is not None and isinstance(point.get(key), int | float):
                    decision_fields[f"hour_{key}"] = point[key]
            records.append(Metric("decision_count", decision_fields, now, source=convert.SOURCE))
            records.extend(convert.compliance_metrics(metrics or {}, decision_fields, now))
        return records

    def _commit(self, results: Mapping[str, Any]) -> None:
        decisions = self._new_decisions(results)
        if decisions:
            self.seen_decisions.add_all(convert.decision_id(d) for d in decisions)
            allowed = sum(1 for d in decisions if convert.is_allowed(d))
            self.own["allowed"] += allowed
            self.own["denied"] += len(decisions) - allowed
        if isinstance(results.get("decisions"), list) and results["decisions"]:
            newest = max(convert.decision_time(d) for d in results["decisions"])
            self.last_decision_ts = max(newest, self.last_decision_ts or newest)
        events = results.get("events")
        if isinstance(events, list) and events:
            self.seen_events.add_all(str(e["id"]) for e in events)
            self.event_cursor = str(events[-1]["id"])
        self.runtime.stats.extra["policy"] = {
            "decisions_seen": self.own["allowed"] + self.own["denied"],
            "event_cursor": self.event_cursor,
        }
