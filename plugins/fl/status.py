"""The FL server's training as the monitor follows it: the experiment, the state word, the run context, and the
newest round row held back for its completion events.

Called after the last ``await`` of a collection, so nothing here can be cut short half-way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from flcollector import Event, Level, Record, Runtime

from .convert import server_metric, training_state
from .naming import experiment_name
from .round_events import RoundEvents


def _key(row: dict[str, Any]) -> tuple[int, str]:
    return row["round"], row["timestamp"]


@attrs.define
class Held:
    """Rows waiting one poll for their round's completion events (at most the newest round's)."""

    rows: list[dict[str, Any]] = attrs.field(factory=list)

    def sort(
        self, new_rows: list[dict[str, Any]], events: RoundEvents, latest_round: int | None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Split the held and the new rows into (emit now, hold): only a new row of the latest round whose
        completion events have not arrived is held; a held row goes out on the next poll, events or not."""
        held = {_key(row) for row in self.rows}
        emit, hold = list(self.rows), list[dict[str, Any]]()
        for row in new_rows:
            if _key(row) in held:
                continue
            waiting = row["round"] == latest_round and not events.facts(row).complete
            (hold if waiting else emit).append(row)
        return emit, hold

    def keep(self, rows: list[dict[str, Any]]) -> None:
        """Hold ``rows`` until the next poll."""
        self.rows = rows


class StatusTracker:
    """The experiment (configured, recalled or derived), the training state and the run context."""

    def __init__(self, runtime: Runtime, source: str) -> None:
        self.runtime, self.source = runtime, source
        self.configured = runtime.context.experiment  # set by [agent] experiment: never overridden
        self.experiment = self.configured
        self.state: str | None = None  # training state word, for TRAINING_STATUS_CHANGED
        self.start_time: float | None = None  # the server's start_time: changes when the server restarts
        self.current_round: int | None = None
        self.recalled: tuple[str, float] | None = None  # (experiment, server start) of the newest stored snapshot

    def start_poll(
        self, raw_events: list[dict[str, Any]], start: float | None, current: int | None, rerunning: bool
    ) -> list[Record]:
        """Take this poll's experiment; a new run (round numbers went back) gets a new one and ``FL_RUN_RESTARTED``.

        Round numbers go back when the server process restarted, and also when a policy let a stopped training
        restart: Flower numbers each training loop's rounds from 1, and the server's rows are replaced.
        """
        restarted = start is not None and self.start_time is not None and start != self.start_time
        went_back = current is not None and self.current_round is not None and current < self.current_round
        new_run = went_back or (restarted and rerunning)
        self._choose_experiment(raw_events, start, new_run)
        if not new_run:
            return []
        details = {"server_start_time": start, "current_round": current, "previous_round": self.current_round}
        return [self._event("FL_RUN_RESTARTED", "WARNING", "the FL server started a new run", details)]

    def _choose_experiment(self, raw_events: list[dict[str, Any]], start: float | None, new_run: bool) -> None:
        if self.configured is not None or start is None or (self.experiment and not new_run):
            return
        if self.recalled is not None and self.recalled[1] == float(start) and not new_run:
            self.experiment = self.recalled[0]  # the collector restarted; the server did not: same experiment
            return
        name = experiment_name(raw_events, start)
        if name == self.experiment:  # a new run of the same process, or within the same second
            name += f"-{self.runtime.stats.counters['fl_runs'] + 2}"
        self.runtime.stats.count("fl_runs")
        self.experiment = name

    def snapshot(
        self, status: Mapping[str, Any] | None, metrics: Mapping[str, Any], start: float | None, current: int | None
    ) -> list[Record]:
        """The ``fl_server`` snapshot and, when the state word changed, ``TRAINING_STATUS_CHANGED``; moves the
        state and the run context (no snapshot when ``/status`` did not answer)."""
        out: list[Record] = []
        state = self.state
        if status is not None:
            max_rounds = status.get("max_rounds", metrics.get("max_rounds"))
            state = training_state(status, max_rounds if isinstance(max_rounds, int) else None)
            snapshot = server_metric(status, metrics, state, self.experiment)
            if start is not None:
                snapshot = attrs.evolve(snapshot, fields={**snapshot.fields, "server_start_time": float(start)})
            out.append(snapshot)
            if state != self.state:
                details = {
                    "previous": self.state,
                    "status": state,
                    "server_status": status.get("server_status"),
                    "current_round": current,
                }
                message = f"training {self.state or 'unknown'} -> {state}"
                out.append(self._event("TRAINING_STATUS_CHANGED", "INFO", message, details))
        self.state, self.start_time = state, start if start is not None else self.start_time
        self.current_round = current if current is not None else self.current_round
        derived = self.experiment if self.configured is None else None
        self.runtime.context.update(experiment=derived, round=current, phase=state)
        return out

    def _event(self, type_: str, level: Level, message: str, details: dict[str, Any]) -> Event:
        return Event(
            type=type_,
            level=level,
            message=message,
            source=self.source,
            details={"monitor": self.runtime.instance, **details},
            experiment=self.experiment,
            round=details.get("current_round", self.runtime.context.round),
        )
