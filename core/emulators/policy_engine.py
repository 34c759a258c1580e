"""An emulated FLOPY-NET policy engine serving the reference shapes (reference §2.5), with a scripted scenario.

Routes: ``/health``, ``/metrics`` (legacy), ``/api/v1/metrics``, ``/api/v1/policies``, ``/api/v1/policy_decisions``
(newest first, ``start_time``/``end_time`` inclusive, ``limit``), ``/api/v1/policy_metrics`` (hourly points, a bare
list as the real engine answers) and ``/events`` (``since_event_id`` cursor; an unknown id serves everything).

Besides the base fault modes it has two of its own: :meth:`PolicyEngineEmulator.cursor_reset` (the next ``/events``
request ignores the cursor) and :meth:`PolicyEngineEmulator.restart` (fresh buffers and counters, as after a crash).
Everything ever served is recorded in ``served_decisions`` and ``served_events`` (id → item) for exactly-once tests.
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ._policy_routes import COMPONENTS, policy_routes
from .base import Emulator

MAX_DECISIONS = 1000  # the real engine keeps the last 1000 decisions
MAX_EVENTS = 500  # ... and up to 500 events, dropping the oldest 20% when full


class PathFaults:
    """ASGI wrapper answering a malformed 200 on the paths in ``broken`` (one bad endpoint, the rest fine)."""

    def __init__(self, app: ASGIApp, broken: set[str]) -> None:
        self.app = app
        self.broken = broken

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.broken:
            await Response(b"<html>oops", media_type="application/json")(scope, receive, send)
            return
        await self.app(scope, receive, send)


class PolicyEngineEmulator(Emulator):
    """A policy engine whose decisions, policies and events advance with :meth:`step`."""

    label = "policy-engine"

    def __init__(self, *, legacy_metrics_only: bool = False, max_limit: int | None = None) -> None:
        super().__init__()
        self.legacy_metrics_only = legacy_metrics_only  # serve only /metrics (404 on /api/v1/metrics)
        self.max_limit = max_limit  # cap on the decisions ``limit`` parameter, as a stricter engine may have
        self.started = time.time()
        self.policy_version = 1
        self.policies: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []  # oldest first
        self.events: list[dict[str, Any]] = []  # oldest first
        self.checks = {"total": 0, "allowed": 0, "denied": 0}
        self.served_decisions: dict[str, dict[str, Any]] = {}
        self.served_events: dict[str, dict[str, Any]] = {}
        self.ticks = 0
        self.cursor_reset_pending = False
        self.broken_paths: set[str] = set()  # paths answering a malformed body (see :meth:`break_path`)
        self._seq = itertools.count(1)
        self._emit("ENGINE_START", {"version": self.policy_version})
        for kind in ("network_security", "client_selection", "model_quality"):
            self.add_policy(kind)

    # -- scenario -----------------------------------------------------------------------------------------------

    def add_policy(self, policy_type: str, enabled: bool = True) -> dict[str, Any]:
        """Create a policy (and its ``POLICY_CREATED`` event)."""
        policy = {
            "id": f"policy_{len(self.policies) + 1}",
            "name": f"{policy_type} policy",
            "type": policy_type,
            "enabled": enabled,
            "priority": 100,
            "rules": [],
            "created_at": time.time(),
        }
        self.policies.append(policy)
        self.policy_version += 1
        self._emit("POLICY_CREATED", {"policy_id": policy["id"], "policy_type": policy_type})
        return policy

    def add_decision(self, allowed: bool, component: str = "fl-client") -> dict[str, Any]:
        """Record one policy check (and its ``POLICY_EVAL_RESULT`` event)."""
        policy = self.policies[next(self._seq) % len(self.policies)] if self.policies else {"id": "default"}
        now = time.time()
        decision = {
            "id": f"decision_{int(now * 1000)}_{uuid.uuid4().hex[:8]}",
            "policy_id": policy["id"],
            "policy_name": policy.get("name", "default"),
            "component": component,
            "timestamp": now,
            "context": {"client_id": f"client_{self.ticks % 5}", "round": self.ticks},
            "decision": "allow" if allowed else "deny",
            "result": allowed,
            "reason": "within limits" if allowed else "trust score below threshold",
            "action_taken": "none" if allowed else "client excluded",
            "execution_time": 0.4,
            "request_id": uuid.uuid4().hex,
        }
        self.decisions = [*self.decisions, decision][-MAX_DECISIONS:]
        self.checks["total"] += 1
        self.checks["allowed" if allowed else "denied"] += 1
        self._emit("POLICY_EVAL_RESULT", {"policy_id": policy["id"], "allowed": allowed, "component": component})
        return decision

    def _emit(self, kind: str, details: dict[str, Any]) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.events = self.events[MAX_EVENTS // 5 :]
        self.events.append(
            {
                "id": str(uuid.uuid4()),
                "type": kind,
                "timestamp": time.time(),
                "source": "POLICY_ENGINE",
                "details": details,
            }
        )

    async def step(self, decisions: int = 3) -> None:
        """One tick: ``decisions`` checks (every third denied), a new policy every fifth tick."""
        self.ticks += 1
        for i in range(decisions):
            self.add_decision(allowed=(self.ticks + i) % 3 != 0, component=COMPONENTS[(self.ticks + i) % 4])
        if self.ticks % 5 == 0:
            self.add_policy("bandwidth_limit")

    def cursor_reset(self) -> None:
        """Fault: the next ``/events`` request ignores its cursor and serves the whole buffer again."""
        self.cursor_reset_pending = True

    def restart(self) -> None:
        """Fault: the engine restarts: fresh event and decision buffers and counters (new event ids)."""
        self.started = time.time()
        self.decisions, self.events = [], []
        self.checks = {"total": 0, "allowed": 0, "denied": 0}
        self._emit("ENGINE_START", {"version": self.policy_version, "restart": True})

    def break_path(self, path: str, broken: bool = True) -> None:
        """Fault on one endpoint only: ``path`` answers a 200 whose body is not JSON (until un-broken)."""
        if broken:
            self.broken_paths.add(path)
        else:
            self.broken_paths.discard(path)

    # -- HTTP ---------------------------------------------------------------------------------------------------

    def app(self) -> ASGIApp:
        """The routes with the base fault modes, plus the per-path faults."""
        return PathFaults(super().app(), self.broken_paths)

    def routes(self) -> list[BaseRoute]:
        """The engine's routes (reference §2.5)."""
        return policy_routes(self)
