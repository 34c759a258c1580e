"""``/api/metrics/fl``, ``/api/metrics/fl/summary`` and ``/api/metrics/fl/rounds`` (upstream #7, #8 and the
summary route the dashboard tries first), all from the stored ``fl_round`` metrics.

``/api/metrics/fl/status`` and ``/api/metrics/fl/config`` are in ``fl_status.py``.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import attrs
from flcollector import Metric
from flcollector.plugins.server.params import ParamError, Params
from starlette.requests import Request
from starlette.routing import Route

from .contract import endpoint, limit, now_iso
from .data import DataView
from .round_pages import RoundWindow, round_page, select_rounds
from .rounds import (
    Completion,
    RoundFilter,
    completion,
    experiment_param,
    fl_item,
    load_rounds,
    round_item,
    shaped_rounds,
    summary_item,
    training_summary,
)

MAX_FL_LIMIT = 10_000


async def rounds_scope(view: DataView, params: Params, **extra: int | None) -> tuple[RoundFilter, Completion]:
    """Which rounds the request reads (experiment, time range, ``extra`` round range), and when training ended."""
    experiment = experiment_param(params, view)
    where = RoundFilter(
        experiment=experiment,
        start_ns=params.time("start_time", "start"),
        end_ns=params.time("end_time", "end"),
        **extra,
    )
    return where, await completion(view, experiment)


async def last_rounds(view: DataView, params: Params, count: int) -> tuple[list[Metric], int, Completion]:
    """The last ``count`` rounds of the request's scope and round range ascending, how many it has, and
    :class:`Completion`."""
    where, done = await rounds_scope(view, params, **_round_range(params))
    page = await round_page(view, where, RoundWindow(order="desc", limit=count))
    return page.rounds[::-1], page.total, done


def _round_range(params: Params) -> dict[str, int | None]:
    return {"min_round": params.integer("min_round", low=0), "max_round": params.integer("max_round", low=0)}


@endpoint
async def fl_metrics(request: Request) -> dict[str, Any]:
    """One item per FL round (accuracy, loss, clients, model size), the last ``limit`` rounds ascending."""
    started = time.perf_counter()
    view, params = DataView.of(request), Params.of(request)
    count = limit(params, 100, MAX_FL_LIMIT, low=1)
    include_raw = params.flag("include_raw", default=False)
    for flag in ("include_rounds", "consolidate_rounds", "rounds_only", "use_cache", "optimize"):
        params.flag(flag, default=True)  # accepted for compatibility; every answer is consolidated and uncached
    rounds, total, done = await last_rounds(view, params, count)
    items = shaped_rounds(view, f"fl_metrics:{include_raw}", rounds, done, partial(fl_item, include_raw=include_raw))
    elapsed = (time.perf_counter() - started) * 1000
    if not items:
        return {
            "metrics": [],
            "count": 0,
            "status": "success",
            "execution_time_ms": elapsed,
            "message": "No FL metrics found for the specified criteria",
        }
    body: dict[str, Any] = {
        "metrics": items,
        "count": len(items),
        "total_rounds_found": total,
        "status": "success",
        "execution_time_ms": elapsed,
        "optimizations_applied": {
            "use_sampling": False,
            "include_raw": include_raw,
            "consolidate_rounds": True,
            "batch_size": count,
        },
        "performance_info": {
            "cached": False,
            "processing_time_ms": elapsed,
            "total_metrics_processed": total,
            "optimization_enabled": True,
        },
    }
    summary = training_summary(items)
    if summary is not None:
        body["training_summary"] = summary
    return body


@endpoint
async def fl_summary(request: Request) -> dict[str, Any]:
    """The compact per-round list (round, accuracy, loss, clients_count, model size) the dashboard prefers."""
    view, params = DataView.of(request), Params.of(request)
    count = limit(params, 1000, MAX_FL_LIMIT, low=1)
    include_summary = params.flag("include_summary", default=False)
    rounds, total, done = await last_rounds(view, params, count)
    items = shaped_rounds(view, "fl_summary", rounds, done, summary_item)
    body: dict[str, Any] = {
        "rounds": items,
        "count": len(items),
        "total_rounds": total,
        "status": "success",
        "timestamp": now_iso(),
    }
    if include_summary:
        body["summary"] = training_summary(items) or {}
    return body


@endpoint
async def fl_rounds(request: Request) -> dict[str, Any]:
    """Stored rounds with filters (round range, accuracy range, since_round), sorting and offset pagination."""
    started = time.perf_counter()
    view, params = DataView.of(request), Params.of(request)
    start_round = params.integer("start_round", default=1, low=0) or 0
    end_round = params.integer("end_round", low=0)
    since_round = params.integer("since_round", low=0)
    count = limit(params, 1000, MAX_FL_LIMIT, low=1)
    offset = params.integer("offset", default=0, low=0) or 0
    min_acc, max_acc = params.decimal("min_accuracy"), params.decimal("max_accuracy")
    source = params.choice("source", options=("both", "fl_server", "collector"), default="both")
    form = params.choice("format", options=("detailed", "summary", "chart"), default="detailed")
    order = params.choice("sort_order", options=("asc", "desc"), default="asc")
    include_stats = params.flag("include_stats", default=False)
    polling = params.flag("polling_mode", default=False)
    since_ns = params.time("since_timestamp")
    if end_round is not None and end_round < start_round:
        raise ParamError("end_round", f"end_round ({end_round}) is before start_round ({start_round})")
    low = max(start_round, since_round + 1 if since_round is not None else 0)
    where, done = await rounds_scope(view, params)
    window = RoundWindow(low, end_round, since_ns, "desc" if order == "desc" else "asc", offset, count)
    items: list[dict[str, Any]] = []
    if min_acc is None and max_acc is None and not include_stats:  # only the page's rounds are read (by the store)
        found = await round_page(view, where, window)
        total, latest_round = found.total, found.latest_round
        page = shaped_rounds(view, "fl_rounds", found.rounds, done, round_item)
    else:  # the accuracy filters and the statistics need every selected round
        everything = await load_rounds(view, where)
        selected = select_rounds(everything, attrs.evolve(window, offset=0, limit=len(everything)))
        latest_round = selected.latest_round
        items = [round_item(m, done.round_complete(m.round or 0)) for m in selected.rounds]
        items = [
            i
            for i in items
            if (min_acc is None or i["accuracy"] >= min_acc) and (max_acc is None or i["accuracy"] <= max_acc)
        ]
        total = len(items)
        page = items[offset : offset + count]
    if polling:
        return {
            "new_rounds": page,
            "count": len(page),
            "latest_round_collector": latest_round,
            "latest_round_fl_server": latest_round,
            "since_round": since_round,
            "has_more": offset + len(page) < total,
            "timestamp": now_iso(),
            "polling_mode": True,
        }
    if form == "summary":
        page = [
            {k: v for k, v in i.items() if k not in ("raw_metrics", "training_duration", "model_size_mb")} for i in page
        ]
    body: dict[str, Any] = {
        "rounds": page,
        "total_rounds": total,
        "returned_rounds": len(page),
        "latest_round": latest_round,
        "pagination": {"limit": count, "offset": offset, "has_more": offset + len(page) < total},
        "filters": {
            "start_round": start_round,
            "end_round": end_round,
            "min_accuracy": min_acc,
            "max_accuracy": max_acc,
            "source": source,
            "format": form,
            "sort_order": order,
        },
        "sources_used": {"fl_server_rounds": 0, "collector_rounds": total, "merged_rounds": total},
        "metadata": {
            "execution_time_ms": (time.perf_counter() - started) * 1000,
            "query_optimization": "collector_store",
            "response_timestamp": now_iso(),
            "api_version": "2.0_consolidated",
        },
    }
    if form == "chart":
        body["chart_data"] = {
            "accuracy": [i["accuracy"] for i in page],
            "loss": [i["loss"] for i in page],
            "rounds": [i["round"] for i in page],
            "timestamps": [i["timestamp"] for i in page],
            "clients": [i["clients"] for i in page],
        }
    if include_stats:
        body["statistics"] = round_statistics(items)
    return body


def round_statistics(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Upstream's ``statistics`` block over the selected rounds (in round order, whatever the sort)."""
    ordered = sorted(items, key=lambda i: i["round"])
    accuracies = [i["accuracy"] for i in ordered]
    return {
        "total_rounds": len(ordered),
        "completed_rounds": sum(1 for i in ordered if i["status"] in ("complete", "completed")),
        "best_accuracy": max(accuracies, default=0.0),
        "latest_accuracy": accuracies[-1] if accuracies else 0.0,
        "average_accuracy": sum(accuracies) / len(accuracies) if accuracies else 0.0,
        "accuracy_improvement": accuracies[-1] - accuracies[0] if accuracies else 0.0,
        "training_duration_total": sum(i["training_duration"] for i in ordered),
    }


ROUTES = [
    Route("/api/metrics/fl", fl_metrics, methods=["GET"]),
    Route("/api/metrics/fl/summary", fl_summary, methods=["GET"]),
    Route("/api/metrics/fl/rounds", fl_rounds, methods=["GET"]),
]
