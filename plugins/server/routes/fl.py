"""``GET /api/v1/fl/metrics``: global FL metrics per round as arrays, and per-client participation.

Answered from the stored ``fl_round`` and ``fl_client`` metrics (see PLUGINS.md for their fields).
"""

from __future__ import annotations

from typing import Any

from flcollector import MetricQuery
from starlette.requests import Request
from starlette.routing import Route

from .. import summaries as s
from ..jsonio import JSONResponse, iso
from ..params import Params
from ..state import state_of


async def fl_metrics(request: Request) -> JSONResponse:
    """Global FL metrics per round as arrays, and per-client participation, for one experiment and time range."""
    server = state_of(request)
    params = Params.of(request)
    experiment = params.text("experiment_id", "experiment") or server.agent.context.experiment
    start, end = params.time("from", "start"), params.time("to", "end")
    window: dict[str, Any] = {
        "experiment": experiment,
        "start_ns": start,
        "end_ns": end,
        "limit": server.options.max_limit,
        "order": "asc",
    }
    rounds = await server.store.query_metrics(MetricQuery(names=["fl_round"], **window))
    clients = await server.store.query_metrics(MetricQuery(names=["fl_client"], **window))
    global_ = s.global_metrics(rounds)
    times = [m.time_ns for m in rounds]
    return JSONResponse(
        {
            "experiment_id": experiment,
            "timerange": {
                "from": iso(start if start is not None else min(times, default=None)),
                "to": iso(end if end is not None else max(times, default=None)),
            },
            "global_metrics": global_,
            "client_metrics": s.client_metrics(clients, len(global_["rounds"])),
        }
    )


ROUTES = [Route("/api/v1/fl/metrics", fl_metrics, methods=["GET"])]
