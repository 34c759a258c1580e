"""The round table's routes, added through ``register_routes`` as any plugin's would be (answered from the store;
each handler finds the agent with ``flcollector.agent_of``):

* ``GET /api/v1/fl/rounds?experiment_id=&from_round=&to_round=``: the rounds of one experiment (default: the
  agent's current one, else the newest), each as a round document (:mod:`.documents`);
* ``GET /api/v1/experiments``: every experiment seen (id, start, end, rounds, status);
* ``GET /api/v1/experiments/{experiment_id}``: its manifest (:mod:`.manifest`).

Errors have the spec API's shape, ``{"error": {"status", "message", "param"}}``: a malformed parameter is a 400
naming it, an unknown experiment a 404, no store a 503.
"""

from __future__ import annotations

from flcollector import Metric, MetricQuery, Store, agent_of
from flcollector.plugins.server.jsonio import JSONResponse, error_response
from flcollector.plugins.server.params import ParamError, Params
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .config_doc import resolved_config
from .documents import experiment_entry, round_documents
from .experiments import EXPERIMENT
from .manifest import manifest
from .readers import StoreReader
from .rows import CLIENT, ROW

PAGE = 10_000
NO_STORE = "no store is configured (add [[sinks.sqlite]]): the round table is not kept"


def _rounds(params: Params) -> tuple[int | None, int | None]:
    """``from_round`` and ``to_round``: absent, or integers from 0 up, the second not before the first."""
    first, last = params.integer("from_round", low=0), params.integer("to_round", low=0)
    if first is not None and last is not None and last < first:
        raise ParamError("to_round", f"{last} is before from_round {first}")
    return first, last


async def _summaries(store: Store) -> list[Metric]:
    return sorted(await store.latest_metrics(names=[EXPERIMENT]), key=lambda m: m.fields.get("first_ns", m.time_ns))


async def rounds(request: Request) -> Response:
    """The round table of one experiment: one document per round, in round order."""
    agent = agent_of(request)
    params = Params.of(request)
    first, last = _rounds(params)
    store = agent.store
    if store is None:
        return error_response(503, NO_STORE)
    experiment = params.text("experiment_id") or agent.context.experiment
    if not experiment:
        summaries = await _summaries(store)
        experiment = summaries[-1].tags.get("experiment_id") if summaries else None
    records: list[Metric] = []
    while experiment:
        page = await store.query_metrics(MetricQuery(names=[ROW, CLIENT], experiment=experiment, min_round=first,
                                                     max_round=last, limit=PAGE, offset=len(records), order="asc"))
        records += page
        if len(page) < PAGE:
            break
    documents = sorted(round_documents(records), key=lambda d: d["round"])
    return JSONResponse({"experiment_id": experiment, "from_round": first, "to_round": last,
                         "count": len(documents), "rounds": documents})


async def experiments(request: Request) -> Response:
    """Every experiment the round table has seen, oldest first."""
    agent = agent_of(request)
    store = agent.store
    if store is None:
        return error_response(503, NO_STORE)
    current = agent.context.experiment
    entries = [experiment_entry(summary, current) for summary in await _summaries(store)]
    return JSONResponse({"count": len(entries), "experiments": entries})


async def experiment(request: Request) -> Response:
    """One experiment's manifest."""
    agent = agent_of(request)
    name = request.path_params["experiment_id"]
    store = agent.store
    if store is None:
        return error_response(503, NO_STORE)
    summary = next((m for m in await _summaries(store) if m.tags.get("experiment_id") == name), None)
    if summary is None:
        return error_response(404, f"no experiment {name!r} (GET /api/v1/experiments lists them)",
                              param="experiment_id")
    document = await manifest(StoreReader(store), name, summary, current=agent.context.experiment,
                              version=agent.version, live_config=resolved_config(agent))
    return JSONResponse(document)


ROUTES = [
    Route("/api/v1/fl/rounds", rounds, methods=["GET"]),
    Route("/api/v1/experiments", experiments, methods=["GET"]),
    Route("/api/v1/experiments/{experiment_id}", experiment, methods=["GET"]),
]
