"""``GET /api/v1/status``: the state of the FL server, policy engine and SDN controller as last observed.

Answered from the store, the run context and the monitors' stats only; no source is called on the request path.
Record names and fields are those the built-in monitors write (``fl_server``, ``policy_count``, ``network``,
``sdn_flows``); a figure nobody measures is ``null``, never invented.
"""

from __future__ import annotations

from collections.abc import Iterable

from flcollector import AgentView, EventQuery, Metric, now_ns
from starlette.requests import Request
from starlette.routing import Route

from .. import summaries as s
from ..jsonio import JSONResponse, iso
from ..state import monitor_stats, state_of

FLOWS = ("flows_total", "flows")
ACTIVE_POLICIES = ("active", "enabled", "total")
#: A monitor's status in this route's words where they differ (``ok`` is the caller's word for a healthy one; the
#: others, ``error``, ``starting``, ``stopped``, keep their own).
_WORDS = {"down": "unreachable"}


def _status_of(agent: AgentView, plugin: str, up: str) -> tuple[str, int | None]:
    """Return (status, last success ns) of the monitor from ``plugin``; ``up`` is the word for a healthy one."""
    stats = monitor_stats(agent, plugin)
    if stats is None:
        return "not_monitored", None
    return (up if stats.status == "ok" else _WORDS.get(stats.status, stats.status)), stats.last_success_ns


def _newest(latest: Iterable[Metric], name: str) -> Metric | None:
    return max((m for m in latest if m.name == name), key=lambda m: m.time_ns, default=None)


async def status(request: Request) -> JSONResponse:
    """Overall health and the state of the FL server, policy engine and SDN controller as last observed."""
    server = state_of(request)
    agent, store = server.agent, server.store
    latest = await store.latest_metrics(names=["fl_server", "policy_count", "network", "sdn_flows"])
    fl, policies, network = (_newest(latest, n) for n in ("fl_server", "policy_count", "network"))
    fl_status, fl_seen = _status_of(agent, "fl", "connected")
    pe_status, pe_seen = _status_of(agent, "policy", "active")
    sdn_status, sdn_seen = _status_of(agent, "sdn", "connected")
    if fl_status == "connected":  # say what the FL server is doing: training, complete, paused...
        state = fl.fields.get("state") if fl else None
        fl_status = str(state) if state else agent.context.phase or fl_status
    recent = EventQuery(source="policy_engine", start_ns=now_ns() - 300 * 1_000_000_000)
    policy_events = await store.count_events(recent)
    flows = s.pick(network.fields, FLOWS) if network else None
    return JSONResponse(
        {
            "timestamp": iso(now_ns()),
            "system_health": agent.health_status(),
            "experiment_id": agent.context.experiment,
            "components": {
                "fl_server": {
                    "status": fl_status,
                    "current_round": agent.context.round,
                    "active_clients": s.pick(fl.fields, ("connected_clients",)) if fl else None,
                    "last_update": iso(fl_seen),
                },
                "policy_engine": {
                    "status": pe_status,
                    "active_policies": s.pick(policies.fields, ACTIVE_POLICIES) if policies else None,
                    "events_per_minute": round(policy_events / 5.0, 3),
                    "last_update": iso(pe_seen),
                },
                "sdn_controller": {
                    "status": sdn_status,
                    "managed_devices": s.pick(network.fields, s.DEVICES) if network else None,
                    "active_flows": flows
                    if flows is not None
                    else s.sum_latest([m for m in latest if m.name == "sdn_flows"], ("flows",)),
                    "last_update": iso(sdn_seen),
                },
            },
        }
    )


ROUTES = [Route("/api/v1/status", status, methods=["GET"])]
