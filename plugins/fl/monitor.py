"""The ``fl`` monitor: the FL server's rounds, status and events, each stored exactly once, and the run context.

One collection polls ``/health``, ``/status``, ``/metrics``, ``/rounds/latest`` and ``/events`` concurrently, then
``/rounds`` only when rows may be new (see :mod:`.rounds`). Answers are judged by the one model of
:mod:`flcollector.sources`: the server unreachable, refusing us or failing ``/health`` raises ``SourceUnavailable``
(the core backs off and reports it once); one bad endpoint becomes an ERROR event naming it and a counter, and the
other endpoints' data is kept. A round row is completed with its round's events (:mod:`.round_events`); the newest
row is held back one poll when its completion events have not arrived yet (the server logs them just after it
writes the row). State moves only after everything was read, so a collection cut short by the core's timeout is
simply repeated: nothing is duplicated or skipped across faults.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx
from flcollector import (
    Duration,
    EndpointError,
    Event,
    HttpClient,
    Monitor,
    Record,
    SourceUnavailable,
    endpoint_error_event,
    gather_endpoints,
    get_json,
    option_doc,
    settle,
)

from .convert import SOURCE, fl_event, round_records
from .events import EventBatch, EventFeed
from .memory import recall
from .round_events import RoundEvents
from .rounds import RoundBatch, RoundLedger
from .status import Held, StatusTracker

_positive = attrs.validators.gt(0)


def _http_url(instance: Any, attribute: Any, value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {value!r}")


@attrs.define
class FlOptions:
    """Options of ``[[monitors.fl]]``."""

    url: str = attrs.field(default="http://fl-server:8081", validator=_http_url, metadata=option_doc(
        "base URL of the FL server's metrics API, `http://` or `https://`"))
    backfill: bool = attrs.field(default=True, metadata=option_doc(
        "store rounds finished before the collector first saw the server"))
    rounds_page_size: int = attrs.field(default=500, validator=_positive, metadata=option_doc(
        "rows per `/rounds` request (the server caps it at 10000)"))
    events_page_size: int = attrs.field(default=1000, validator=_positive, metadata=option_doc(
        "events per `/events` request (the server's buffer holds 1000)"))
    max_pages: int = attrs.field(default=20, validator=_positive, metadata=option_doc(
        "requests per endpoint per poll at most (a backlog is finished by the next polls)"))
    # Twice what the FL server can serve again at once (its event buffer is a deque of 1000): more would only
    # fill for longer (at a round every few seconds, 10,000 ids took half an hour in issue 13's soak).
    remember_events: int = attrs.field(default=2_000, validator=_positive, metadata=option_doc(
        "event ids remembered to drop duplicates (a reset cursor, a re-served buffer)"))
    request_timeout: Duration | None = attrs.field(default=None, metadata=option_doc(
        "per HTTP request", default="the collection's `timeout` (`runtime.schedule.timeout`)", example="5s"))


class FlMonitor(Monitor):
    """Collects the FL server: ``fl_round`` and ``fl_server`` metrics and the FL events."""

    name = "fl"
    Options = FlOptions

    async def open(self) -> None:
        """Open the HTTP client and recall from the store what earlier runs of the collector stored."""
        opts: FlOptions = self.options
        # each request may take as long as the whole collection unless told otherwise (the core bounds the rest)
        timeout = float(opts.request_timeout if opts.request_timeout is not None else self.runtime.schedule.timeout)
        self.client = HttpClient(base_url=opts.url.rstrip("/"), timeout=httpx.Timeout(timeout))
        self.feed = EventFeed(opts.remember_events, opts.events_page_size, opts.max_pages)
        self.ledger = RoundLedger(opts.rounds_page_size, opts.max_pages, opts.backfill)
        self.round_events = RoundEvents()
        self.held = Held()  # the newest row, waiting one poll for its completion events
        self.status = StatusTracker(self.runtime, SOURCE)
        store = self.runtime.agent.store if self.runtime.agent is not None else None
        if store is not None:  # None in unit tests: start empty
            self.status.recalled = await recall(store, self.ledger, self.feed, self.round_events, opts.remember_events)
            self.log.info("recalled %d stored rounds; event cursor %s", len(self.ledger.keys), self.feed.cursor)

    @property
    def experiment(self) -> str | None:
        """The experiment this monitor's records belong to (configured, recalled, or named from the server)."""
        return self.status.experiment

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def collect(self) -> list[Record]:
        """Poll the FL server once; see the module docstring."""
        client = self.client

        def snapshot(path: str, **params: Any) -> Callable[[], Awaitable[Any]]:
            return lambda: get_json(client, path, params=params, main=path == "/health", expect=dict)

        jobs = {path: snapshot(path) for path in ("/health", "/status", "/metrics")}
        jobs["/rounds/latest"] = snapshot("/rounds/latest", limit=1)
        results: dict[Any, Any] = await gather_endpoints({**jobs, "/events": lambda: self.feed.fetch(client)})
        events: EventBatch = results.pop("/events")
        failed = settle({**results, "/events": events.error if events.failed else events})
        if events.error is not None:
            failed["/events"] = events.error
        data = {key: value for key, value in results.items() if key not in failed}
        status, metrics = data.get("/status", {}), data.get("/metrics", {})
        current = _round_of(status.get("current_round", metrics.get("current_round")))
        start = metrics.get("start_time") if isinstance(metrics.get("start_time"), int | float) else None
        latest = data.get("/rounds/latest")
        active = status.get("training_active", metrics.get("training_active", True)) is not False
        rounds, latest_round = await self._read_rounds(failed, latest, current, active)
        if rounds.error is not None:
            failed["/rounds"] = rounds.error

        tracker = self.status
        records: list[Record] = tracker.start_poll(events.events, start, current, rounds.rerun_next is not None)
        fl_events = self._events(events)
        self.round_events.add((e.type, e.round, e.time_ns, dict(e.details)) for e in fl_events)
        emitted, held = self.held.sort(rounds.rows, self.round_events, latest_round)
        records += fl_events
        for row in emitted:
            records += round_records(row, tracker.experiment, self.round_events.facts(row))
        records += tracker.snapshot(status if "/status" in data else None, metrics, start, current)
        records += self._problems(failed, events, rounds)
        # Everything was read and converted: now (and only now) move the cursors, with no await after this point.
        events.commit()
        rounds.commit(emitted)
        self.held.keep(held)
        stats = self.runtime.stats
        stats.count("fl_events", len(events.events))
        stats.count("fl_rounds", len(emitted))
        stats.extra["fl"] = {
            "experiment": tracker.experiment,
            "rounds_known": len(self.ledger.keys),
            "event_cursor": self.feed.cursor,
            "cursor_resets": self.feed.resets,
            "state": tracker.state,
        }
        return records

    async def _read_rounds(
        self, failed: dict[Any, EndpointError], latest: dict[str, Any] | None, current: int | None, active: bool
    ) -> tuple[RoundBatch, int | None]:
        latest_round = _round_of(latest.get("latest_round")) if latest is not None else None
        if latest_round is None:
            if latest is not None:
                reason = "key 'latest_round' missing or not an integer"
                failed["/rounds/latest"] = EndpointError("/rounds/latest", reason)
            return RoundBatch(self.ledger, scan_from=self.ledger.scan_from, rerun_next=self.ledger.rerun_next), None
        if current is not None and latest_round > current and self.ledger.rerun_next is None:
            current = await self._current_round_again(current)
        return await self.ledger.fetch(self.client, latest_round, current, active), latest_round

    async def _current_round_again(self, current: int) -> int:
        """``/status``'s current round read again, after ``/rounds/latest`` answered (``current`` if it fails).

        The two are read at once, so a round that finished between the two answers shows a latest round past the
        current one, which is also how a new run (its rounds numbered from 1 again) looks. The server moves its
        current round before it writes that round's row, so a current round read after the latest row is never
        behind it unless a new run really began."""
        try:
            status = await get_json(self.client, "/status", expect=dict)
        except (EndpointError, SourceUnavailable):  # this poll goes on with what it read; the next reads again
            return current
        again = _round_of(status.get("current_round"))
        return again if again is not None and again > current else current

    def _events(self, events: EventBatch) -> list[Event]:
        converted = []
        for raw in events.events:
            try:
                converted.append(fl_event(raw, self.status.experiment))
            except ValueError:
                events.invalid += 1
        return converted

    def _problems(self, failed: dict[Any, EndpointError], events: EventBatch, rounds: RoundBatch) -> list[Record]:
        errors = list(failed.values())
        if events.invalid:
            errors.append(EndpointError("/events", f"{events.invalid} events without an event_id or type"))
        if rounds.invalid:
            errors.append(EndpointError("/rounds", f"{rounds.invalid} rows without a round number or timestamp"))
        return [endpoint_error_event(self.runtime, error) for error in errors]


def _round_of(value: Any) -> int | None:
    """``value`` as a round number read from the server, or None when it is not an integer (JSON ``true`` is not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
