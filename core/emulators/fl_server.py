"""An emulated FLOPY-NET FL server metrics API (``fl-server:8081``) running a scripted training.

It reproduces ``src/fl/server/fl_server.py``: the process state (``global_metrics``, served by ``/metrics``), the
event buffer (``deque(maxlen=1000)``, served by ``/events``), the rounds database (``/rounds``, kept across
process restarts), and what a Flower round writes into them (see :mod:`._fl_training`). The routes are in
:mod:`._fl_routes`. Each :meth:`step` plays one round of the current training loop.

Training as upstream runs it: a policy that denies a round pauses training (:meth:`pause`, :meth:`resume`); a
policy that denies the next round stops it (:meth:`stop_by_policy`) until the policy allows a restart
(:meth:`restart_training`), which runs the remaining rounds **numbered from 1 again** (Flower counts rounds per
training loop), replacing rows; a process restart (:meth:`restart`) starts a fresh buffer, fresh metrics and a new
``start_time`` and also numbers rounds from 1. Faults besides the base ones: :meth:`cursor_reset` (the next
``/events`` ignores the cursor, as when it was evicted), ``break_path`` (a 200 that is not JSON),
``failing_endpoints`` (the route's own error answer), ``storage_ready = False`` (``/rounds`` answers 500 and no
row is stored) and ``delay_round_events`` (the row is written but ``EVALUATION_COMPLETED`` and ``ROUND_COMPLETED``
come only with the next :meth:`step` or :meth:`flush_events`: the moment upstream has between the two).
Everything produced and served is recorded so tests can assert exactly-once storage.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import deque
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ._fl_rounds import RoundStorage
from ._fl_training import iso_utc, play_round
from .base import Emulator

__all__ = ["FlServerEmulator", "iso_utc"]

CHECKS_AT_START = 5  # policy checks the server makes before training (parameters, server control, server start)
CHECKS_PER_ROUND = 3  # fl_client_training, fl_client_selection, fl_server_control


class FlServerEmulator(Emulator):
    """A scripted FL server; see the module docstring for the training, the faults and what is recorded."""

    label = "fl-server"

    def __init__(
        self,
        *,
        num_clients: int = 5,
        max_rounds: int = 10,
        seed: int = 0,
        convergence: float = 0.35,
        dropout_rate: float = 0.15,
        buffer_size: int = 1000,
        model: str = "cnn",
        dataset: str = "mnist",
    ):
        super().__init__()
        self.num_clients, self.convergence, self.dropout_rate = num_clients, convergence, dropout_rate
        self.buffer_size, self.model, self.dataset = buffer_size, model, dataset
        self.random = random.Random(seed)
        self.storage = RoundStorage()  # the rounds database: survives process restarts, as the real file does
        self.storage_ready = True
        self.produced_rounds: list[dict[str, Any]] = []  # every row ever written, replaced ones included
        self.produced_events: list[dict[str, Any]] = []  # every event ever logged, evicted ones included
        self.served_rounds: dict[tuple[int, str], dict[str, Any]] = {}  # (round, timestamp) -> row, as served
        self.served_events: dict[str, dict[str, Any]] = {}  # event_id -> event, as served
        self.failing_endpoints: set[str] = set()
        self.delay_round_events = False
        self.restart_allowed = False  # what the policy says when /status asks after a stop
        self.ignore_cursor_once = False
        self._held: list[tuple[str, dict[str, Any], float]] = []
        self._last_clock = 0.0
        self._max_rounds = max_rounds
        self._boot()

    # -- the process ------------------------------------------------------------------------------------------------

    def _boot(self) -> None:
        """Start the process: ``FLServer.__init__`` then ``start()`` up to the training loop."""
        self.events: deque[dict[str, Any]] = deque(maxlen=self.buffer_size)
        self.training_paused = False
        self.metrics: dict[str, Any] = {
            "start_time": self._clock(),
            "current_round": 0,
            "connected_clients": 0,
            "aggregate_fit_count": 0,
            "aggregate_evaluate_count": 0,
            "last_round_metrics": {},
            "policy_checks_performed": 0,
            "policy_checks_allowed": 0,
            "policy_checks_denied": 0,
            "training_complete": False,
            "training_end_time": None,
            "total_training_duration": 0.0,
            "rounds_history": [],
            "data_state": "initializing",
            "model_size_mb": 0.0,
            "max_rounds": self._max_rounds,
        }
        self._checks(CHECKS_AT_START)
        self.emit("SERVER_START", {"host": "0.0.0.0", "port": 8080})
        summary = {
            "model": self.model,
            "dataset": self.dataset,
            "rounds": self._max_rounds,
            "min_clients": 2,
            "min_available_clients": 2,
            "stay_alive_after_training": True,
        }
        self.emit("CONFIG_LOADED", {"config_summary": summary})
        self._start_loop()

    def _start_loop(self) -> None:
        """``_start_training_loop``: a Flower run of the remaining rounds, numbered from 1."""
        done = int(self.metrics["current_round"])
        self.loop_started_after = done
        self.loop_rounds = max(1, self._max_rounds - done) if done > 0 else self._max_rounds
        self.loop_round = 0
        self.loop_running = True
        self.metrics.update(training_active=True, server_status="training")

    def _clock(self, at: float | None = None) -> float:
        # strictly increasing, so two things done within one microsecond still have distinct timestamps
        now = max(time.time() if at is None else at, self._last_clock + 1e-5)
        self._last_clock = now
        return now

    def _checks(self, allowed: int, denied: int = 0) -> None:
        self.metrics["policy_checks_performed"] += allowed + denied
        self.metrics["policy_checks_allowed"] += allowed
        self.metrics["policy_checks_denied"] += denied

    def emit(self, event_type: str, details: dict[str, Any], at: float | None = None) -> dict[str, Any]:
        """``_log_event``: append an event to the buffer (the oldest is evicted when full) and return it."""
        event = {
            "event_id": str(uuid.UUID(int=self.random.getrandbits(128), version=4)),
            "timestamp": iso_utc(self._clock(at)),
            "source_component": "FL_SERVER",
            "event_type": event_type,
            "details": details,
        }
        self.events.append(event)
        self.produced_events.append(event)
        return event

    # -- state read by the routes and the tests -----------------------------------------------------------------

    @property
    def max_rounds(self) -> int:
        """The rounds the training runs (``self.rounds`` upstream)."""
        return self._max_rounds

    @max_rounds.setter
    def max_rounds(self, value: int) -> None:
        self._max_rounds = value
        self.metrics["max_rounds"] = value
        if self.loop_started_after == 0:
            self.loop_rounds = value

    @property
    def current_round(self) -> int:
        """``global_metrics["current_round"]``."""
        return int(self.metrics["current_round"])

    @property
    def start_time(self) -> float:
        """The process start (``global_metrics["start_time"]``)."""
        return float(self.metrics["start_time"])

    @property
    def stopped_by_policy(self) -> bool:
        """Training was stopped by a policy and not restarted."""
        return bool(self.metrics.get("training_stopped_by_policy", False))

    @property
    def training_complete(self) -> bool:
        """The training loop ran all its rounds (upstream's ``training_complete`` key never says so)."""
        return not self.loop_running and not self.stopped_by_policy

    @property
    def rounds(self) -> dict[int, dict[str, Any]]:
        """The rounds database now, by round number (as ``/rounds`` reads it)."""
        return {row["round"]: row for row in self.storage.rows(limit=-1)}

    def status(self) -> str:
        """``server_status`` as ``get_training_status`` details it."""
        status = self.metrics.get("server_status", "initializing")
        active, clients = self.metrics.get("training_active", False), self.metrics.get("connected_clients", 0)
        if status in ("running", "training"):
            if active and self.current_round > 0:
                return "training"
            return "waiting_for_clients" if clients == 0 else "ready"
        if status == "initializing" and active:
            return "training"
        return str(status)

    # -- the scripted training ------------------------------------------------------------------------------------

    async def step(self) -> None:
        """Play the next round of the training loop (nothing while paused, stopped or done)."""
        self.flush_events()
        if not self.loop_running or self.training_paused or self.stopped_by_policy:
            return
        # the round ends now (at least 1 ms after the last event) and fills the time since that event
        since = self._last_clock
        end = max(time.time(), since + 1e-3)
        n = self.loop_round + 1
        self._checks(CHECKS_PER_ROUND)
        self.metrics.update(training_active=True, connected_clients=self.num_clients)
        played = play_round(
            self.random,
            n,
            clients=self.num_clients,
            dropout=self.dropout_rate,
            convergence=self.convergence,
            since=since,
            now=end,
        )
        self.emit("ROUND_STARTED", played.started, at=played.times["start"])
        aggregated = played.aggregated
        training = {key: aggregated[f"{key}_client_training_time"] for key in ("total", "average", "min", "max")}
        self.metrics.update(
            current_round=n,
            last_aggregation_duration=aggregated["aggregation_duration"],
            last_round_partial_duration=aggregated["round_duration_partial"],
            aggregation_timestamp=aggregated["timestamp"],
            last_client_training_stats={
                **{f"{key}_time": value for key, value in training.items()},
                "count": len(aggregated["client_training_durations"]),
            },
        )
        self.emit("AGGREGATION_COMPLETED", aggregated, at=played.times["aggregated"])
        if self.storage_ready:
            self.storage.store(played.row)
            self.produced_rounds.append(played.row)
        evaluated = played.evaluated
        self.metrics.update(
            last_round_metrics=evaluated,
            last_evaluation_duration=evaluated["evaluation_duration"],
            last_round_total_duration=evaluated["total_round_duration"],
            last_round_accuracy=evaluated["accuracy"],
            last_round_loss=evaluated["loss"],
            model_size_mb=evaluated["model_size_mb"],
            evaluation_timestamp=evaluated["timestamp"],
            last_client_evaluation_stats=played.row["raw_metrics"]["client_timing_stats"]["evaluation"],
        )
        self._held = [("EVALUATION_COMPLETED", evaluated, end), ("ROUND_COMPLETED", played.completed, end)]
        if not self.delay_round_events:
            self.flush_events()
        self.loop_round = n
        if n >= self.loop_rounds:  # Flower returned: the loop is over
            self.loop_running = False
            self.metrics.update(training_active=False, training_stopped_by_policy=False, stop_reason=None)
            if self.loop_started_after > 0:
                self.metrics["current_round"] = self._max_rounds

    def flush_events(self) -> None:
        """Log the round's completion events held back by ``delay_round_events``."""
        held, self._held = self._held, []
        for event_type, details, at in held:
            self.emit(event_type, details, at=at)

    def _pause_training(self, reason: str) -> None:
        """``pause_training``: ``TRAINING_PAUSED`` and the paused state."""
        if self.training_paused:
            return
        self.training_paused = True
        self.metrics.update(training_paused=True, pause_reason=reason, server_status="paused")
        stamp = iso_utc(self._clock())
        self.emit("TRAINING_PAUSED", {"reason": reason, "paused_at_round": self.current_round, "timestamp": stamp})

    def _resume_training(self, reason: str) -> None:
        """``resume_training``: ``TRAINING_RESUMED`` and the running state."""
        if not self.training_paused:
            return
        self.training_paused = False
        self.metrics.update(training_paused=False, pause_reason=None, server_status="running")
        stamp = iso_utc(self._clock())
        self.emit("TRAINING_RESUMED", {"reason": reason, "resumed_at_round": self.current_round, "timestamp": stamp})

    def pause(self, reason: str = "policy") -> None:
        """The ``fl_client_training`` policy denies the next round: ``TRAINING_PAUSED_BY_POLICY``, then paused."""
        n = self.loop_round + 1
        self._checks(0, denied=1)
        details = {
            "round": n,
            "reason": reason,
            "policy_type": "fl_client_training",
            "policy_result": {"allowed": False, "reason": reason},
            "current_hour": time.localtime().tm_hour,
            "timestamp": time.time(),
        }
        self.emit("TRAINING_PAUSED_BY_POLICY", details)
        self._pause_training(f"Round {n}: {reason}")

    def resume(self) -> None:
        """The policy allows the round again: ``TRAINING_RESUMED``."""
        self._resume_training(f"Policy now allows round {self.loop_round + 1}")

    def stop_by_policy(self, reason: str = "policy") -> None:
        """``fl_server_control`` denies the round after the last one: stopped, paused, ``TRAINING_PAUSED_BY_SIGNAL``."""
        done = self.current_round
        self._checks(0, denied=1)
        self.metrics.update(training_stopped_by_policy=True, stop_reason=reason)
        final = {"allowed": False, "reason": reason}
        details = {"stopped_after_round": done, "reason": reason, "policy_result": final}
        self.emit("TRAINING_STOPPED_BY_POLICY", {**details, "final_metrics": self.metrics["last_round_metrics"]})
        signal = f"Training stopped by policy after round {done}: {reason}"
        self.loop_running = False
        self._pause_training(f"Policy signal: {signal}")
        stamp = iso_utc(self._clock())
        self.emit("TRAINING_PAUSED_BY_SIGNAL", {"reason": signal, "paused_by": "policy_engine", "timestamp": stamp})
        self.metrics.update(training_stopped_by_policy=True, stop_reason=signal)

    def restart_training(self) -> None:
        """The stay-alive loop finds the policy allows training again: a new loop of the remaining rounds."""
        self.metrics.update(training_stopped_by_policy=False, stop_reason=None, server_status="restarting")
        self._resume_training("Policy conditions changed to allow training")
        self._start_loop()

    # -- faults -------------------------------------------------------------------------------------------------

    def cursor_reset(self) -> None:
        """Make the next ``/events`` answer ignore ``since_event_id`` and start from the oldest buffered event."""
        self.ignore_cursor_once = True

    def restart(self) -> None:
        """Restart the process: new event buffer (new ids), new metrics and ``start_time``; the rounds DB is kept,
        and the new training numbers its rounds from 1 again, replacing rows as they complete."""
        self._held = []
        self._boot()

    # -- HTTP -------------------------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """The metrics API routes (see :mod:`._fl_routes`)."""
        from ._fl_routes import fl_routes

        return fl_routes(self)

    def inner_app(self) -> ASGIApp:
        """The routes with the real server's JSON 404 (the base class adds the faults)."""
        from ._fl_routes import fl_app

        return fl_app(self)
