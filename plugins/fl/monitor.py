"""The ``fl`` monitor: the FL server's rounds, status and events, each stored exactly once, and the run context.

One collection polls ``/health``, ``/status``, ``/metrics``, ``/rounds/latest`` and ``/events`` concurrently, then
``/rounds`` only when rows may be new (see :mod:`.rounds`). The server being unreachable raises
``SourceUnavailable`` (the core backs off and reports it once); one bad endpoint becomes an ERROR event naming it and
a counter, and the other endpoints' data is kept. State moves only after everything was read, so a collection cut
short by the core's timeout is simply repeated: nothing is duplicated or skipped across faults.
"""

from __future__ import annotations

from typing import Any

import attrs
import httpx
import trio
from flcollector import Duration, Event, Monitor, Record

from .client import Answer, FlApi
from .convert import SOURCE, fl_event, round_records, server_metric, time_ns_of, training_state
from .events import EventBatch, EventFeed
from .memory import recall
from .naming import experiment_name, problem_event, problems, raise_if_unavailable
from .rounds import RoundBatch, RoundLedger

_SNAPSHOTS: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("/health", None),
    ("/status", None),
    ("/metrics", None),
    ("/rounds/latest", {"limit": 1}),
)
_positive = attrs.validators.gt(0)


def _http_url(instance: Any, attribute: Any, value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {value!r}")


@attrs.define
class FlOptions:
    """Options of ``[[monitors.fl]]``."""

    url: str = attrs.field(default="http://fl-server:8081", validator=_http_url)  # the FL server's metrics API
    backfill: bool = True  # store rounds finished before the collector first saw the server
    rounds_page_size: int = attrs.field(default=500, validator=_positive)  # rows per /rounds request
    events_page_size: int = attrs.field(default=1000, validator=_positive)  # events per /events request
    max_pages: int = attrs.field(default=20, validator=_positive)  # per endpoint and collection; the rest next time
    remember_events: int = attrs.field(default=10_000, validator=_positive)  # event ids kept for dedup
    request_timeout: Duration | None = None  # per request; default: the collection's timeout (runtime.schedule)


class FlMonitor(Monitor):
    """Collects the FL server: ``fl_round``, ``fl_client`` and ``fl_server`` metrics and the FL events."""

    name = "fl"
    Options = FlOptions

    async def open(self) -> None:
        """Open the HTTP client and recall from the store what earlier runs of the collector stored."""
        opts: FlOptions = self.options
        # each request may take as long as the whole collection unless told otherwise (the core bounds the rest)
        timeout = float(opts.request_timeout if opts.request_timeout is not None else self.runtime.schedule.timeout)
        self.client = httpx.AsyncClient(base_url=opts.url.rstrip("/"), timeout=httpx.Timeout(timeout))
        self.api = FlApi(self.client)
        self.feed = EventFeed(opts.remember_events, opts.events_page_size, opts.max_pages)
        self.ledger = RoundLedger(opts.rounds_page_size, opts.max_pages, opts.backfill)
        self.configured_experiment = self.runtime.context.experiment  # set by [agent] experiment: never overridden
        self.experiment = self.configured_experiment
        self.state: str | None = None  # training state word, for TRAINING_STATUS_CHANGED
        self.start_time: float | None = None  # the server's start_time: changes when the server restarts
        self.current_round: int | None = None
        self.recalled: tuple[str, float] | None = None  # (experiment, server start) of the newest stored snapshot
        await self._recall()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def _recall(self) -> None:
        """Seed the round ledger and the event feed from the store (None in unit tests: start empty)."""
        store = self.runtime.agent.store if self.runtime.agent is not None else None
        if store is not None:
            self.recalled = await recall(store, self.ledger, self.feed, self.options.remember_events)
            self.log.info("recalled %d stored rounds; event cursor %s", len(self.ledger.keys), self.feed.cursor)

    async def _get(self, answers: dict[str, Answer], endpoint: str, params: dict[str, Any] | None) -> None:
        answers[endpoint] = await self.api.get(endpoint, params)

    async def collect(self) -> list[Record]:
        """Poll the FL server once; see the module docstring."""
        answers: dict[str, Answer] = {}
        holder: list[EventBatch] = []
        async with trio.open_nursery() as nursery:
            for endpoint, params in _SNAPSHOTS:
                nursery.start_soon(self._get, answers, endpoint, params)

            async def read_events() -> None:
                holder.append(await self.feed.fetch(self.api))

            nursery.start_soon(read_events)
        events = holder[0]
        answers["/events"] = events.answer
        raise_if_unavailable(self.options.url, answers.values())
        data = {k: a.data for k, a in answers.items() if a.ok and a.data is not None}
        status, metrics = data.get("/status", {}), data.get("/metrics", {})
        current = status.get("current_round", metrics.get("current_round"))
        current = current if isinstance(current, int) and not isinstance(current, bool) else None
        start = metrics.get("start_time") if isinstance(metrics.get("start_time"), int | float) else None
        rounds = await self._read_rounds(answers, data.get("/rounds/latest"), current, start)
        raise_if_unavailable(self.options.url, [rounds.answer] if rounds.answer else [])

        records: list[Record] = []
        new_run = self._new_run(start, current, rounds)
        self._choose_experiment(events, start, new_run)
        if new_run:
            records.append(
                self._own_event(
                    "FL_RUN_RESTARTED",
                    "WARNING",
                    "the FL server started a new run",
                    {"server_start_time": start, "current_round": current},
                )
            )
        records += self._convert(events, rounds)
        state = self.state
        if "/status" in data:
            max_rounds = status.get("max_rounds", metrics.get("max_rounds"))
            state = training_state(status, max_rounds if isinstance(max_rounds, int) else None)
            snapshot = server_metric(status, metrics, state, self.experiment)
            if start is not None:
                snapshot = attrs.evolve(snapshot, fields={**snapshot.fields, "server_start_time": float(start)})
            records.append(snapshot)
            if state != self.state:
                records.append(
                    self._own_event(
                        "TRAINING_STATUS_CHANGED",
                        "INFO",
                        f"training {self.state or 'unknown'} -> {state}",
                        {
                            "previous": self.state,
                            "status": state,
                            "server_status": status.get("server_status"),
                            "current_round": current,
                        },
                    )
                )
        records += self._problems(list(answers.values()) + ([rounds.answer] if rounds.answer else []), events, rounds)
        # Everything was read and converted: now (and only now) move the cursors, with no await after this point.
        events.commit()
        rounds.commit()
        self.state, self.start_time = state, start if start is not None else self.start_time
        self.current_round = current if current is not None else self.current_round
        self._update_context(current, state)
        stats = self.runtime.stats
        stats.count("fl_events", len(events.events))
        stats.count("fl_rounds", len(rounds.rows))
        stats.extra["fl"] = {
            "experiment": self.experiment,
            "rounds_known": len(self.ledger.keys),
            "event_cursor": self.feed.cursor,
            "cursor_resets": self.feed.resets,
            "state": state,
        }
        return records

    async def _read_rounds(
        self, answers: dict[str, Answer], latest: dict[str, Any] | None, current: int | None, start: float | None
    ) -> RoundBatch:
        latest_round = latest.get("latest_round") if latest is not None else None
        if not isinstance(latest_round, int) or isinstance(latest_round, bool):
            if latest is not None:
                answers["/rounds/latest"] = Answer(
                    "/rounds/latest", problem="malformed", reason="key 'latest_round' missing or not an integer"
                )
            batch = RoundBatch(self.ledger, scan_from=self.ledger.scan_from, rerun_next=self.ledger.rerun_next)
            return batch
        run_started = time_ns_of(start) if start is not None else None
        return await self.ledger.fetch(self.api, latest_round, current, run_started)

    def _new_run(self, start: float | None, current: int | None, rounds: RoundBatch) -> bool:
        """A restarted server whose training began again from round 1 (not a resumed run)."""
        restarted = start is not None and self.start_time is not None and start != self.start_time
        return restarted and (rounds.rerun_next is not None or (current or 0) < (self.current_round or 0))

    def _choose_experiment(self, events: EventBatch, start: float | None, new_run: bool) -> None:
        if self.configured_experiment is not None or start is None or (self.experiment and not new_run):
            return
        if self.recalled is not None and self.recalled[1] == float(start):
            self.experiment = self.recalled[0]  # the collector restarted; the server did not: same experiment
            return
        name = experiment_name(events.events, start)
        if name == self.experiment:  # a new run within the same second: still a different experiment
            name += f"-{self.runtime.stats.counters['fl_runs'] + 2}"
        self.runtime.stats.count("fl_runs")
        self.experiment = name

    def _convert(self, events: EventBatch, rounds: RoundBatch) -> list[Record]:
        records: list[Record] = []
        for raw in events.events:
            try:
                records.append(fl_event(raw, self.experiment))
            except ValueError:
                events.invalid += 1
        for row in rounds.rows:
            records += round_records(row, self.experiment)
        return records

    def _problems(self, answers: list[Answer], events: EventBatch, rounds: RoundBatch) -> list[Record]:
        out: list[Record] = []
        for endpoint, problem, reason in problems(answers, events.invalid, rounds.invalid):
            self.runtime.stats.count("malformed" if problem == "malformed" else "endpoint_errors")
            self.log.warning("%s%s: %s", self.options.url, endpoint, reason)
            out.append(
                problem_event(
                    self.runtime.instance,
                    self.options.url,
                    endpoint,
                    problem,
                    reason,
                    experiment=self.experiment,
                    round=self.runtime.context.round,
                )
            )
        return out

    def _own_event(self, type_: str, level: str, message: str, details: dict[str, Any]) -> Event:
        return Event(
            type=type_,
            level=level,
            message=message,
            source=SOURCE,
            details={"monitor": self.runtime.instance, **details},
            experiment=self.experiment,
            round=details.get("current_round", self.runtime.context.round),
        )

    def _update_context(self, current: int | None, state: str | None) -> None:
        derived = self.experiment if self.configured_experiment is None else None
        self.runtime.context.update(experiment=derived, round=current, phase=state)
