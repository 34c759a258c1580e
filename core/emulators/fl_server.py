"""An emulated FLOPY-NET FL server metrics API (``fl-server:8081``) with a scripted training run.

It serves the reference shapes (``reference/flopynet-upstream.md`` §2.5): ``/health``, ``/status``, ``/metrics``,
``/rounds``, ``/rounds/latest`` and ``/events`` with the ``since_event_id`` cursor. Each :meth:`step` completes one
round (accuracy ``1 - 0.9 * exp(-k * r)`` plus seeded noise, client dropouts, four events per round). Besides the
base fault modes it has the FL-specific ones: :meth:`cursor_reset` (the next ``/events`` answer ignores the cursor,
as when the cursor was evicted from the real server's ``deque(maxlen=1000)``) and :meth:`restart` (a process
restart: a fresh event buffer with new ids; the rounds database is kept, as the real server's SQLite file is).
Everything produced and served is recorded so tests can assert exactly-once storage.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from .base import Emulator, _FaultMiddleware


def iso_utc(epoch: float) -> str:
    """Return ``epoch`` as the ISO UTC string the FL server puts in event timestamps."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _int_param(request: Request, name: str, default: int | None, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    value = int(raw)
    return min(value, maximum) if maximum is not None else value


class FlServerEmulator(Emulator):
    """A scripted FL server. ``step()`` finishes one round; see the module docstring for faults and records."""

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
        self.num_clients, self.max_rounds, self.convergence = num_clients, max_rounds, convergence
        self.dropout_rate, self.buffer_size, self.model, self.dataset = dropout_rate, buffer_size, model, dataset
        self.random = random.Random(seed)
        self.rounds: dict[int, dict[str, Any]] = {}  # the persistent rounds DB (INSERT OR REPLACE by round)
        self.produced_rounds: list[dict[str, Any]] = []  # every row ever written, replaced ones included
        self.produced_events: list[dict[str, Any]] = []  # every event ever emitted, evicted ones included
        self.served_rounds: dict[tuple[int, str], dict[str, Any]] = {}  # (round, timestamp) -> row, as served
        self.served_events: dict[str, dict[str, Any]] = {}  # event_id -> event, as served
        self.malformed_endpoints: set[str] = set()  # paths answering a non-JSON 200 (e.g. {"/metrics"})
        self.failing_endpoints: set[str] = set()  # paths answering 500 (e.g. /rounds before storage is ready)
        self.restarts = 0
        self._ignore_cursor_once = False
        self._last_clock = 0.0
        self._boot()

    # -- the scripted experiment ------------------------------------------------------------------------------------

    def _boot(self, resume: bool = True) -> None:
        """(Re)start the process: fresh event buffer and metrics; rounds DB kept."""
        self.events: deque[dict[str, Any]] = deque(maxlen=self.buffer_size)
        self.start_time = self._clock()
        if not resume:
            self.current_round = 0
        else:
            self.current_round = max(self.rounds, default=0)
        self.status = "waiting_for_clients"
        self.training_active = False
        self.paused = self.stopped_by_policy = False
        self.pause_reason: str | None = None
        self.stop_reason: str | None = None
        self.connected_clients = 0
        self.last_round: dict[str, Any] = {}
        self.emit("SERVER_START", {"host": "0.0.0.0", "port": 8081})
        self.emit(
            "CONFIG_LOADED",
            {
                "config_summary": {
                    "model": self.model,
                    "dataset": self.dataset,
                    "rounds": self.max_rounds,
                    "min_clients": 2,
                    "min_available_clients": 2,
                    "stay_alive_after_training": True,
                }
            },
        )

    def _clock(self) -> float:
        # strictly increasing, so two rounds finished within one microsecond still have distinct timestamps
        now = max(time.time(), self._last_clock + 1e-6)
        self._last_clock = now
        return now

    def emit(self, event_type: str, details: dict[str, Any]) -> dict[str, Any]:
        """Append an event to the buffer (the oldest is evicted when full) and return it."""
        event = {
            "event_id": str(uuid.UUID(int=self.random.getrandbits(128), version=4)),
            "timestamp": iso_utc(self._clock()),
            "source_component": "FL_SERVER",
            "event_type": event_type,
            "details": details,
        }
        self.events.append(event)
        self.produced_events.append(event)
        return event

    @property
    def training_complete(self) -> bool:
        """True once the last round finished (or policy stopped training for good)."""
        return self.current_round >= self.max_rounds and not self.training_active

    async def step(self) -> None:
        """Complete one round: events ROUND_STARTED, AGGREGATION_COMPLETED, EVALUATION_COMPLETED, ROUND_COMPLETED."""
        if self.paused or self.stopped_by_policy or self.current_round >= self.max_rounds:
            return
        rng, n = self.random, self.current_round + 1
        self.current_round, self.training_active, self.status = n, True, "training"
        self.connected_clients = self.num_clients
        selected = [f"client_{i}" for i in range(1, self.num_clients + 1)]
        failed = [c for c in selected if rng.random() < self.dropout_rate][: max(0, len(selected) - 2)]
        ok = [c for c in selected if c not in failed]
        self.emit(
            "ROUND_STARTED",
            {
                "round": n,
                "total_clients": self.num_clients,
                "selected_clients": len(selected),
                "timestamp": time.time(),
                "round_start_time": time.time(),
                "config_duration": 0.05,
                "parameters_size": 1_250_000,
            },
        )
        accuracy = min(0.995, 1 - 0.9 * math.exp(-self.convergence * n) + rng.gauss(0, 0.01))
        loss = max(0.01, 2.3 * math.exp(-self.convergence * n) + abs(rng.gauss(0, 0.02)))
        phases = {
            "config": 0.05,
            "training": round(rng.uniform(8, 14), 3),
            "aggregation": round(rng.uniform(0.3, 0.9), 3),
            "evaluation": round(rng.uniform(1, 3), 3),
        }
        clients = {
            c: {
                "accuracy": round(accuracy - rng.uniform(0, 0.05), 4),
                "loss": round(loss + rng.uniform(0, 0.1), 4),
                "num_examples": rng.randint(800, 1500),
                "training_time": round(rng.uniform(5, 14), 3),
            }
            for c in ok
        }
        self.emit(
            "AGGREGATION_COMPLETED",
            {
                "round": n,
                "successful_clients": len(ok),
                "failed_clients": len(failed),
                "aggregation_duration": phases["aggregation"],
            },
        )
        self.emit(
            "EVALUATION_COMPLETED",
            {"round": n, "accuracy": accuracy, "loss": loss, "evaluation_duration": phases["evaluation"]},
        )
        timestamp = self._clock()
        row = {
            "round": n,
            "timestamp": iso_utc(timestamp),
            "status": "complete",
            "accuracy": accuracy,
            "loss": loss,
            "training_duration": phases["training"],
            "model_size_mb": 4.77,
            "clients": len(ok),
            "raw_metrics": {
                "aggregation_duration": phases["aggregation"],
                "evaluation_duration": phases["evaluation"],
                "total_round_duration": round(sum(phases.values()), 3),
                "phase_breakdown": phases,
                "clients_selected": len(selected),
                "successful_clients": len(ok),
                "failed_clients": len(failed),
                "failed_client_ids": failed,
                "client_metrics": clients,
            },
        }
        self.rounds[n] = row
        self.produced_rounds.append(row)
        self.last_round = row
        self.emit(
            "ROUND_COMPLETED",
            {
                "round": n,
                "accuracy": accuracy,
                "loss": loss,
                "phase_breakdown": phases,
                "total_round_duration": sum(phases.values()),
            },
        )
        if n >= self.max_rounds:
            self.training_active, self.status = False, "completed"

    def pause(self, reason: str = "policy") -> None:
        """Pause training by policy (``TRAINING_PAUSED_BY_POLICY``)."""
        self.paused, self.pause_reason, self.status, self.training_active = True, reason, "paused", False
        self.emit("TRAINING_PAUSED_BY_POLICY", {"reason": reason, "round": self.current_round})

    def resume(self) -> None:
        """Resume paused training (``TRAINING_RESUMED``)."""
        self.paused, self.pause_reason, self.status = False, None, "training"
        self.training_active = self.current_round < self.max_rounds
        self.emit("TRAINING_RESUMED", {"round": self.current_round})

    def stop_by_policy(self, reason: str = "policy") -> None:
        """Stop training for good by policy (``TRAINING_STOPPED_BY_POLICY``)."""
        self.stopped_by_policy, self.stop_reason, self.status, self.training_active = True, reason, "stopped", False
        self.emit("TRAINING_STOPPED_BY_POLICY", {"reason": reason, "round": self.current_round})

    # -- FL-specific faults -----------------------------------------------------------------------------------------

    def cursor_reset(self) -> None:
        """Make the next ``/events`` answer ignore ``since_event_id`` and start from the oldest buffered event."""
        self._ignore_cursor_once = True

    def restart(self, *, resume: bool = True) -> None:
        """Restart the process: new event buffer (new ids), new ``start_time``; the rounds DB is kept.

        ``resume=True`` continues numbering after the last stored round (a checkpointed run); ``resume=False`` is a
        new run from round 1 whose rows replace the old ones as they complete (the real ``INSERT OR REPLACE``).
        """
        self.restarts += 1
        self._boot(resume=resume)

    # -- the HTTP API -------------------------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """Return the FL server's metrics API routes."""
        return [
            Route(path, self._guard(handler))
            for path, handler in (
                ("/", self.root),
                ("/health", self.health),
                ("/status", self.get_status),
                ("/metrics", self.metrics),
                ("/events", self.get_events),
                ("/rounds", self.get_rounds),
                ("/rounds/latest", self.latest_rounds),
            )
        ]

    def app(self) -> ASGIApp:
        """The routes with the real server's JSON 404 body, wrapped in the base class's fault injection."""

        async def not_found(request: Request, exc: Exception) -> Response:
            paths = ["/", "/health", "/status", "/metrics", "/events", "/rounds", "/rounds/latest"]
            return JSONResponse({"error": "Endpoint not found", "available_endpoints": paths}, status_code=404)

        return _FaultMiddleware(Starlette(routes=self.routes(), exception_handlers={404: not_found}), self)

    def _guard(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.url.path in self.malformed_endpoints:
                return Response(b"<html>502 Bad Gateway</html>", media_type="application/json")
            if request.url.path in self.failing_endpoints:
                return JSONResponse({"error": "Storage not initialized", "rounds": []}, status_code=500)
            try:
                return JSONResponse(handler(request))
            except ValueError as exc:
                return JSONResponse({"error": f"bad parameter: {exc}"}, status_code=400)

        return endpoint

    def root(self, request: Request) -> dict[str, Any]:
        """``GET /``."""
        return {"status": "running", "endpoints": ["/health", "/metrics", "/events"]}

    def health(self, request: Request) -> dict[str, Any]:
        """``GET /health``."""
        return {"status": "healthy", "timestamp": time.time()}

    def get_status(self, request: Request) -> dict[str, Any]:
        """``GET /status``."""
        return {
            "server_status": self.status,
            "training_stopped_by_policy": self.stopped_by_policy,
            "training_paused": self.paused,
            "pause_reason": self.pause_reason,
            "stop_reason": self.stop_reason,
            "current_round": self.current_round,
            "max_rounds": self.max_rounds,
            "restart_allowed": True,
            "connected_clients": self.connected_clients,
            "training_active": self.training_active,
            "timestamp": iso_utc(time.time()),
        }

    def metrics(self, request: Request) -> dict[str, Any]:
        """``GET /metrics[?include_rounds=true]`` (``training_complete`` is always false, as upstream)."""
        last = self.last_round
        raw = last.get("raw_metrics", {})
        body: dict[str, Any] = {
            "start_time": self.start_time,
            "current_round": self.current_round,
            "connected_clients": self.connected_clients,
            "aggregate_fit_count": len(self.rounds),
            "aggregate_evaluate_count": len(self.rounds),
            "last_round_metrics": {
                "round": last.get("round"),
                "accuracy": last.get("accuracy"),
                "loss": last.get("loss"),
                "evaluation_duration": raw.get("evaluation_duration"),
                "total_round_duration": raw.get("total_round_duration"),
                "successful_evaluations": raw.get("successful_clients"),
                "failed_evaluations": raw.get("failed_clients"),
                "timestamp": last.get("timestamp"),
                "aggregation_duration": raw.get("aggregation_duration"),
                "model_size_mb": 4.77,
            }
            if last
            else {},
            "policy_checks_performed": 0,
            "policy_checks_allowed": 0,
            "policy_checks_denied": 0,
            "training_complete": False,
            "training_end_time": None,
            "total_training_duration": None,
            "rounds_history": [],
            "data_state": "initializing",
            "model_size_mb": 4.77,
            "max_rounds": self.max_rounds,
            "training_active": self.training_active,
            "server_status": self.status,
            "last_round_accuracy": last.get("accuracy"),
            "last_round_loss": last.get("loss"),
            "training_stopped_by_policy": self.stopped_by_policy,
            "stop_reason": self.stop_reason,
            "training_paused": self.paused,
            "pause_reason": self.pause_reason,
        }
        if request.query_params.get("include_rounds") == "true":
            body["rounds"] = []
        return body

    def get_events(self, request: Request) -> dict[str, Any]:
        """``GET /events?since_event_id=&limit=``: events after the cursor; an unknown cursor means from the start."""
        since = request.query_params.get("since_event_id")
        limit = _int_param(request, "limit", 1000) or 0
        events = list(self.events)
        ids = [e.get("event_id") for e in events]
        if since and since in ids and not self._ignore_cursor_once:
            events = events[ids.index(since) + 1 :]
        self._ignore_cursor_once = False
        page = events[:limit]
        self.served_events.update((e["event_id"], e) for e in page if "event_id" in e)
        return {"events": page, "last_event_id": ids[-1] if ids else None}

    def _serve_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.served_rounds.update(((r["round"], r["timestamp"]), r) for r in rows)
        return rows

    def get_rounds(self, request: Request) -> dict[str, Any]:
        """``GET /rounds?start_round=&end_round=&limit=&offset=&min_accuracy=&max_accuracy=`` (ascending)."""
        start = _int_param(request, "start_round", 1) or 1
        end = _int_param(request, "end_round", None)
        limit = _int_param(request, "limit", 1000, 10000) or 0
        offset = _int_param(request, "offset", 0) or 0
        lo, hi = request.query_params.get("min_accuracy"), request.query_params.get("max_accuracy")
        rows = [self.rounds[n] for n in sorted(self.rounds) if n >= start and (end is None or n <= end)]
        rows = [r for r in rows if (not lo or r["accuracy"] >= float(lo)) and (not hi or r["accuracy"] <= float(hi))]
        page = rows[offset : offset + limit]
        return {
            "rounds": self._serve_rows(page),
            "total_rounds": len(rows),
            "returned_rounds": len(page),
            "latest_round": max(self.rounds, default=0),
            "pagination": {"limit": limit, "offset": offset, "has_more": offset + len(page) < len(rows)},
            "filters": {"start_round": start, "end_round": end, "min_accuracy": lo, "max_accuracy": hi},
        }

    def latest_rounds(self, request: Request) -> dict[str, Any]:
        """``GET /rounds/latest?limit=`` (the newest ``limit`` rows, ascending)."""
        limit = _int_param(request, "limit", 50, 1000) or 0
        if not self.rounds:
            return {"rounds": [], "latest_round": 0}
        rows = [self.rounds[n] for n in sorted(self.rounds)[-limit:]] if limit else []
        return {"rounds": self._serve_rows(rows), "latest_round": max(self.rounds), "returned_rounds": len(rows)}
