"""``GET /api/v1/fl/metrics``: global FL metrics per round as arrays, and each client's participation.

Rounds come from the stored ``fl_round`` metrics, read newest first (so a window with more rounds than
``max_limit`` loses its oldest, never its newest) and folded a page at a time into each round's figures
(``flcollector.fold_metrics``): an experiment of thousands of rounds costs each call one page of metrics, not all
of them. ``client_metrics`` come from the ``fl_client`` records clients push (``/write`` or ``/api/v1/ingest``, tag
``client``), summarised per client by the store (``flcollector.summarize``: in SQL for ``sqlite``), however many
reports the window holds. See PLUGINS.md for both records.

The rendered answer is kept while the store's version of both records stands (:mod:`..kept`): the dashboard's polls
between two rounds cost a version lookup, not a fold of every round.
"""

from __future__ import annotations

import attrs
from flcollector import MetricQuery, Store, fold_metrics, metrics_version, summarize
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import summaries as s
from ..jsonio import JSONResponse, dumps, iso
from ..params import Params
from ..state import state_of

CLIENT_FIELDS = tuple(dict.fromkeys(alias for aliases in s.CLIENT_FIELDS.values() for alias in aliases))


#: The records the answer is built from (what its kept copy depends on).
FL_NAMES = ("fl_round", "fl_client")


async def fl_metrics(request: Request) -> Response:
    """Global FL metrics per round as arrays, and per-client participation, for one experiment and time range."""
    server = state_of(request)
    params = Params.of(request)
    experiment = params.text("experiment_id", "experiment") or server.agent.context.experiment
    start, end = params.time("from", "start"), params.time("to", "end")
    store = server.store
    window = MetricQuery(
        experiment=experiment, start_ns=start, end_ns=end, limit=server.options.max_limit, order="desc"
    )
    body = await server.fl_answers.get(
        (experiment, start, end), metrics_version(store, FL_NAMES), lambda: _render(store, window)
    )
    return Response(body, media_type=JSONResponse.media_type)


async def _render(store: Store, window: MetricQuery) -> bytes:
    """The answer for ``window``, read from ``store`` and rendered."""
    rounds = await fold_metrics(store, attrs.evolve(window, names=["fl_round"]), s.RoundArrays)
    clients = await summarize(store, attrs.evolve(window, names=["fl_client"]), CLIENT_FIELDS, window.limit)
    global_ = rounds.arrays()
    times = [t for t in (rounds.first_ns, rounds.last_ns) if t is not None]
    times += [t for c in clients for t in (c.first_ns, c.last_ns)]
    start, end = window.start_ns, window.end_ns
    return dumps(
        {
            "experiment_id": window.experiment,
            "timerange": {
                "from": iso(start if start is not None else min(times, default=None)),
                "to": iso(end if end is not None else max(times, default=None)),
            },
            "global_metrics": global_,
            "client_metrics": s.client_metrics(clients, global_["rounds"]),
        }
    )


ROUTES = [Route("/api/v1/fl/metrics", fl_metrics, methods=["GET"])]
