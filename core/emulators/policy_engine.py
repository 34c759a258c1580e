"""An emulated FLOPY-NET policy engine (``policy-engine:5000``) with a scripted scenario.

It reproduces ``src/policy_engine/policy_engine_server.py`` and what it calls: the policies (a dict by id, loaded
from the policy file at start, with its ``version``), the ``ApplicationTracker`` (one application record and the
statistics per check, the last 1000 kept), ``log_decision`` (one decision per enabled policy of the checked type,
the last 1000 kept, ids ``decision_<ms>_<1000-9999>`` that can collide), and ``utils/event_buffer.py`` (events of at
most 500, the oldest 100 dropped when it overflows; details of 1000 characters or more replaced by a ``summary``).
The routes are in :mod:`._policy_routes`.

Each :meth:`step` makes ``decisions`` checks the way the FL server asks (every third one denied) and creates a
policy every fifth tick. Faults besides the base ones: :meth:`cursor_reset` (the next ``/events`` ignores its
cursor), :meth:`restart` (a new process: buffers and statistics empty, the policy file loaded again),
:meth:`break_path` (one path answers a 200 that is not JSON). ``served_decisions`` and ``served_events`` record
everything served, for exactly-once tests (decisions by ``(id, timestamp)``, since their ids can collide).
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ._policy_checks import MAX_DECISIONS, RULES, Checks
from .base import Emulator

__all__ = ["MAX_DECISIONS", "MAX_EVENTS", "PolicyEngineEmulator"]

MAX_EVENTS = 500  # the event buffer's size; when it overflows the oldest fifth is dropped

#: The policy file the engine loads at start: one policy per type the FL server checks.
POLICY_FILE: tuple[tuple[str, str, str], ...] = (
    ("fl-client-training", "fl_client_training", "Client training hours"),
    ("fl-client-selection", "fl_client_selection", "Client selection"),
    ("fl-server-control", "fl_server_control", "Server control"),
)
#: The contexts the FL server and the network send, as ``log_decision`` reads a component from them.
CONTEXTS: dict[str, dict[str, Any]] = {
    "fl-server": {"server_id": "default-server", "operation": "decide_next_round"},
    "fl-client": {"client_id": "client_1", "operation": "client_filter"},
    "network": {"operation": "network_flow_check"},
    "policy-engine": {"operation": "policy_refresh"},
}
COMPONENTS = tuple(CONTEXTS)


def truncate(details: Any) -> dict[str, Any]:
    """``_truncate_details``: details of 1000 characters or more (as ``str()`` prints them) become a summary."""
    if isinstance(details, dict) and len(str(details)) < 1000:
        return details
    return {"summary": str(details)[:500]}



class PolicyEngineEmulator(Emulator):
    """A policy engine whose checks, decisions, policies and events advance with :meth:`step`."""

    label = "policy-engine"

    def __init__(self, *, legacy_metrics_only: bool = False, max_limit: int | None = None, seed: int = 0) -> None:
        super().__init__()
        self.legacy_metrics_only = legacy_metrics_only  # an older engine: only /metrics (404 on /api/v1/metrics)
        self.max_limit = max_limit  # a stricter engine capping the decisions ``limit`` parameter
        self.random = random.Random(seed)
        self.served_decisions: dict[tuple[str, float], dict[str, Any]] = {}
        self.served_events: dict[str, dict[str, Any]] = {}
        self.cursor_reset_pending = False
        self.ticks = 0
        self._created = itertools.count(1)
        self._boot()

    def _boot(self) -> None:
        """``main()``: load the policy file, start the engine (``ENGINE_START``), record ``app.start_time``."""
        self.events: list[dict[str, Any]] = []
        self.checks_made = Checks(self.random)
        now = time.time()
        self.policies: dict[str, dict[str, Any]] = {
            policy_id: {"id": policy_id, "name": name, "type": kind, "priority": 100, "enabled": True}
            | {"rules": [dict(rule) for rule in RULES]}
            for policy_id, kind, name in POLICY_FILE
        }
        self.policy_version = 3  # the policy file's "version"
        self.policy_history: list[dict[str, Any]] = []
        for policy_id, policy in self.policies.items():
            self.log_event(
                "POLICY_LOADED", {"policy_id": policy_id, "policy_type": policy["type"], "source": "merged_policies"}
            )
        self.log_event("ENGINE_START", {"version": self.policy_version, "policies_loaded": len(self.policies)})
        self.started = now

    # -- what the engine does ----------------------------------------------------------------------------------

    def log_event(self, event_type: str, details: Any) -> dict[str, Any]:
        """``log_event``: append to the buffer; past 500 events the oldest 100 go."""
        event = {
            "id": str(uuid.UUID(int=self.random.getrandbits(128), version=4)),
            "type": event_type,
            "timestamp": time.time(),
            "source": "POLICY_ENGINE",
            "details": truncate(details),
        }
        self.events.append(event)
        if len(self.events) > MAX_EVENTS:
            del self.events[: MAX_EVENTS // 5]
        return event

    def check(self, policy_type: str, context: dict[str, Any], *, deny: bool = False) -> dict[str, Any]:
        """``PolicyEngine.check_policy``: evaluate the enabled policies of ``policy_type`` (``deny`` makes the first
        one's deny rule match), record the application and the decisions, log ``POLICY_EVAL_RESULT``."""
        began = time.time()
        policies = [p for p in self.policies.values() if p["type"] == policy_type and p.get("enabled", True)]
        result = self.checks_made.evaluate(policies, policy_type, deny)
        self.checks_made.record(policy_type, context, result, (time.time() - began) * 1000)
        request_id = context.get("request_id", f"req_{int(time.time())}")
        elapsed_ms = (time.time() - began) * 1000
        details = {"request_id": request_id, "policy_type": policy_type, "result": result, "elapsed_ms": elapsed_ms}
        self.log_event("POLICY_EVAL_RESULT", details)
        return result

    def create_policy(self, policy_type: str, enabled: bool = True) -> dict[str, Any]:
        """``create_policy``: a new policy and ``POLICY_CREATED`` (the version does not change)."""
        policy_id = f"{policy_type}_{int(time.time())}_{next(self._created):08x}"
        now = time.time()
        policy = {
            "id": policy_id,
            "name": f"{policy_type} policy",
            "type": policy_type,
            "priority": 100,
            "enabled": enabled,
            "rules": [dict(rule) for rule in RULES],
            "created_at": now,
            "updated_at": now,
        }
        self.policies[policy_id] = policy
        self.log_event(
            "POLICY_CREATED", {"policy_id": policy_id, "policy_type": policy_type, "validation_warnings": []}
        )
        return policy

    def set_enabled(self, policy_id: str, enabled: bool) -> None:
        """``enable_policy`` / ``disable_policy``: the version goes up and the history grows (no event)."""
        policy = self.policies[policy_id]
        if policy.get("enabled", True) == enabled:
            return
        self.policy_version += 1
        policy.update(enabled=enabled, updated_at=time.time(), version=self.policy_version)
        action = "enable" if enabled else "disable"
        self.policy_history.append(
            {"action": action, "policy_id": policy_id, "timestamp": time.time(), "version": self.policy_version}
        )

    # -- the scripted scenario, and shortcuts for tests --------------------------------------------------------

    @property
    def decisions(self) -> list[dict[str, Any]]:
        """``decisions_history``, oldest first (the last 1000)."""
        return self.checks_made.decisions

    @property
    def applications(self) -> list[dict[str, Any]]:
        """The application records, oldest first (the last 1000)."""
        return self.checks_made.applications

    @property
    def stats(self) -> dict[str, Any]:
        """``policy_application_stats``."""
        return self.checks_made.stats

    @property
    def checks(self) -> dict[str, int]:
        """The engine's check counters (``policy_checks_total|allowed|denied``)."""
        return {
            "total": self.stats["total_checks"],
            "allowed": self.stats["allowed_checks"],
            "denied": self.stats["denied_checks"],
        }

    def add_decision(self, allowed: bool, component: str = "fl-client") -> dict[str, Any]:
        """One check that yields one decision from ``component`` (a context it is read from); return it."""
        kind = (
            POLICY_FILE[COMPONENTS.index(component) % len(POLICY_FILE)][1]
            if component in COMPONENTS
            else "fl_client_training"
        )
        self.check(kind, {**CONTEXTS.get(component, {}), "timestamp": time.time()}, deny=not allowed)
        return self.decisions[-1]

    async def step(self, decisions: int = 3) -> None:
        """One tick: ``decisions`` checks (every third denied), a new policy every fifth tick."""
        self.ticks += 1
        for i in range(decisions):
            self.add_decision(allowed=(self.ticks + i) % 3 != 0, component=COMPONENTS[(self.ticks + i) % 4])
        if self.ticks % 5 == 0:
            self.create_policy("bandwidth_limit")

    def cursor_reset(self) -> None:
        """Fault: the next ``/events`` request ignores its cursor and serves the whole buffer again."""
        self.cursor_reset_pending = True

    def restart(self) -> None:
        """Fault: a new engine process: empty buffers and statistics, the policy file loaded again (new ids)."""
        self._boot()


    # -- HTTP ---------------------------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """The engine's routes (see :mod:`._policy_routes`)."""
        from ._policy_routes import policy_routes

        return policy_routes(self)

    def inner_app(self) -> ASGIApp:
        """The routes with Werkzeug's HTML 404 (the base class adds the faults)."""
        from ._policy_routes import policy_app

        return policy_app(self)
