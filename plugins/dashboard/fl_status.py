"""``/api/metrics/fl/status``, ``/api/metrics/fl/config`` and ``/api/metrics/latest?type=fl_server``.

Upstream made up to five calls to the FL server and the policy engine per status request (40 s worst case) and
never stored an ``fl_server`` row. Here the answer comes from the latest ``fl_server`` metric, the latest
``fl_round``, the ``CONFIG_LOADED`` event and the FL monitor's health, so it is cheap enough for the overview's polls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flcollector import Event, Metric
from starlette.requests import Request
from starlette.routing import Route

from .contract import endpoint, iso, now_iso, plain
from .data import DataView, number

#: The FL monitor's training states spelled as upstream's ``status`` values (idle|training|complete|...).
_UPSTREAM_STATUS = {"active": "training", "stopped_by_policy": "stopped"}


def training_status(fields: Mapping[str, Any]) -> str:
    """Upstream's one-word training status for an ``fl_server`` snapshot's fields."""
    state = str(fields.get("state") or fields.get("status") or "idle")
    return _UPSTREAM_STATUS.get(state, state)


async def latest_round(view: DataView) -> Metric | None:
    """Return the most recent ``fl_round`` metric (from the cache when it holds one: no store query per poll)."""
    return await view.latest_metric("fl_round")


def config_summary(event: Event | None) -> dict[str, Any]:
    """Return the FL server's ``config_summary`` from a ``CONFIG_LOADED`` event (ours nests the raw event)."""
    if event is None:
        return {}
    details = plain(event.details)
    inner = plain(details["details"]) if isinstance(details.get("details"), Mapping) else {}
    for candidate in (details.get("config_summary"), inner.get("config_summary"), inner, details):
        if isinstance(candidate, Mapping) and ("model" in candidate or "rounds" in candidate):
            return plain(candidate)
    return {}


async def fl_status(view: DataView) -> dict[str, Any]:
    """Build the ``/api/metrics/fl/status`` body (see upstream §1.2 #9 for the rule on ``training_active``)."""
    server = await view.latest_metric("fl_server")
    last = await latest_round(view)
    started = await view.latest_event("SERVER_START")
    configured, monitor_status, last_error = view.monitor_status("fl")
    fields = server.fields if server is not None else {}
    round_fields = last.fields if last is not None else {}
    available = monitor_status == "ok"
    current = int(number(fields.get("current_round"), float(last.round or 0) if last is not None else 0.0))
    raw_max = fields.get("max_rounds")
    max_rounds = int(raw_max) if isinstance(raw_max, int | float) and raw_max > 0 else None
    stopped = bool(fields.get("stopped_by_policy", False))
    complete = bool(fields.get("training_complete", False)) or bool(max_rounds and current >= max_rounds)
    paused = bool(fields.get("training_paused", False))
    active = (
        not stopped
        and not complete
        and not paused
        and current > 0
        and available
        and (max_rounds is None or current < max_rounds)
    )
    body: dict[str, Any] = {
        "timestamp": now_iso(),
        "training_active": active,
        "training_complete": complete,
        "fl_server_available": available,
        "current_round": current,
        "connected_clients": int(
            number(fields.get("connected_clients"), number(round_fields.get("clients_succeeded")))
        ),
        "latest_accuracy": number(round_fields.get("accuracy"), number(fields.get("accuracy"))),
        "latest_loss": number(round_fields.get("loss"), number(fields.get("loss"))),
        "max_rounds": max_rounds,
        "stopped_by_policy": stopped,
        "training_paused": paused,
        "status": training_status(fields) if server is not None else "unknown",
        "server_status": fields.get("status"),
        "data_source": "collector_store",
        "collector_monitoring": configured,
        "start_time": _start_time(fields, started),
        "last_update": iso(server.time_ns) if server is not None else None,
        "latest_round": last.round if last is not None else 0,
        "model_size_mb": number(round_fields.get("model_size_mb"), number(fields.get("model_size_mb"))),
        "experiment": server.experiment if server is not None else last.experiment if last is not None else None,
    }
    # Upstream's signal that the FL server cannot be read; the dashboard then falls back to /rounds.
    if configured and monitor_status == "down":
        body["error"] = f"FL server unreachable: {last_error or 'no answer'}"
    elif configured and monitor_status == "error":
        body["error"] = f"FL monitor failing: {last_error or 'unknown error'}"
    return body


def _start_time(fields: Mapping[str, Any], started: Event | None) -> str | None:
    """When the FL server started: its own ``server_start_time`` (epoch seconds), else its SERVER_START event."""
    start = fields.get("server_start_time")
    if isinstance(start, int | float) and not isinstance(start, bool) and start > 0:
        return iso(int(start * 1e9))
    return iso(started.time_ns) if started is not None else None


async def fl_server_latest(view: DataView) -> dict[str, Any]:
    """``/api/metrics/latest?type=fl_server``: upstream's raw dict (``status`` is the training status)."""
    server = await view.latest_metric("fl_server")
    if server is None:
        return {"status": "success", "timestamp": now_iso(), "message": "No FL metrics found", "metrics": {}}
    status = await fl_status(view)
    fields = plain(server.fields)
    return {
        "timestamp": iso(server.time_ns),
        "metric_type": "fl_server",
        "round": status["current_round"],
        "current_round": status["current_round"],
        "status": training_status(fields),
        "accuracy": status["latest_accuracy"],
        "loss": status["latest_loss"],
        "latest_loss": status["latest_loss"],
        "clients_connected": status["connected_clients"],
        "connected_clients": status["connected_clients"],
        "clients_total": status["connected_clients"],
        "max_rounds": status["max_rounds"],
        "start_time": status["start_time"],
        "last_update": iso(server.time_ns),
        "training_complete": status["training_complete"],
        "training_active": status["training_active"],
        "model_size_mb": status["model_size_mb"],
        "raw_metrics": fields,
    }


async def fl_config(view: DataView) -> dict[str, Any]:
    """Build ``/api/metrics/fl/config`` from ``CONFIG_LOADED``, the latest ``fl_server`` and ``policy_count``."""
    started = time.perf_counter()
    event = await view.latest_event("CONFIG_LOADED")
    server = await view.latest_metric("fl_server")
    policy = await view.latest_metric("policy_count")
    summary = config_summary(event)
    fields = plain(server.fields) if server is not None else {}
    total_rounds = fields.get("max_rounds", summary.get("rounds"))
    fl_server = {
        "model": summary.get("model", "unknown"),
        "dataset": summary.get("dataset", "unknown"),
        "total_rounds": total_rounds,
        "current_round": fields.get("current_round", 0),
        "min_clients": summary.get("min_clients"),
        "min_available_clients": summary.get("min_available_clients"),
        "training_complete": bool(fields.get("training_complete", False)),
        "source": "collector_store",
    }
    training = {
        "total_rounds": total_rounds,
        "min_clients": summary.get("min_clients"),
        "min_available_clients": summary.get("min_available_clients"),
        "stay_alive_after_training": summary.get("stay_alive_after_training"),
        "learning_rate": summary.get("learning_rate"),
        "batch_size": summary.get("batch_size"),
        "local_epochs": summary.get("local_epochs", summary.get("epochs")),
    }
    model = {
        "model_type": summary.get("model", "unknown"),
        "num_classes": summary.get("num_classes"),
        "architecture": summary.get("architecture"),
        "estimated_parameters": summary.get("parameters"),
        "source": "fl_server_events" if event is not None else "unknown",
    }
    federation = (
        {
            **summary,
            "rounds": summary.get("rounds", total_rounds),
            "source": "fl_server_events",
            "timestamp": iso(event.time_ns),
        }
        if event is not None
        else {}
    )
    policy_engine = (
        {**plain(policy.fields), "source": "policy_engine_metrics", "timestamp": iso(policy.time_ns)}
        if policy is not None
        else {}
    )
    sources = [
        name
        for name, used in (
            ("fl_server_events", event),
            ("fl_server_metrics", server),
            ("policy_engine_metrics", policy),
        )
        if used is not None
    ]
    known = [v for v in fl_server.values() if v not in (None, "unknown")]
    return {
        "timestamp": now_iso(),
        "fl_server": fl_server,
        "policy_engine": policy_engine,
        "training_parameters": training,
        "model_config": model,
        "federation_config": federation,
        "data_sources": sources,
        "status": "enhanced" if len(sources) >= 2 else "basic" if sources else "unknown",
        "metadata": {
            "execution_time_ms": (time.perf_counter() - started) * 1000,
            "data_sources_used": len(sources),
            "config_completeness": len(known) / len(fl_server),
            "timestamp": now_iso(),
            "api_version": "2.0",
        },
    }


@endpoint
async def status(request: Request) -> dict[str, Any]:
    """Training state: active/complete, current round, clients, latest accuracy and loss, FL server reachability."""
    return await fl_status(DataView.of(request))


@endpoint
async def config(request: Request) -> dict[str, Any]:
    """The FL configuration (model, dataset, rounds, clients) and policy engine facts, from stored records."""
    return await fl_config(DataView.of(request))


ROUTES = [
    Route("/api/metrics/fl/status", status, methods=["GET"]),
    Route("/api/metrics/fl/config", config, methods=["GET"]),
]
