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

from typing import Any

import orjson
from flcollector import AgentView, Metric, MetricQuery, Store, agent_of
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
INT64_MAX = 2**63 - 1


class BadRequest(Exception):
    """A request the route cannot answer: ``status``, a message, and the parameter at fault."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


def json_response(content: Any, status: int = 200) -> Response:
    """A JSON response (orjson; NaN becomes null)."""
    return Response(orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS), status, media_type="application/json")


def error_response(error: BadRequest) -> Response:
    """The spec API's error shape."""
    body: dict[str, Any] = {"status": error.status, "message": error.message}
    if error.param is not None:
        body["param"] = error.param
    return json_response({"error": body}, error.status)


def round_param(request: Request, name: str) -> int | None:
    """A round number parameter: absent, or an integer from 0 up; anything else is a 400 naming it."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(400, f"parameter {name!r}: expected an integer, got {text!r}", name) from None
    if not 0 <= value <= INT64_MAX:
        raise BadRequest(400, f"parameter {name!r}: must be between 0 and {INT64_MAX}, got {value}", name)
    return value


def _store(agent: AgentView) -> Store:
    store = agent.store
    if store is None:
        raise BadRequest(503, "no store is configured (add [[sinks.sqlite]]): the round table is not kept")
    return store


async def _summaries(store: Store) -> list[Metric]:
    return sorted(await store.latest_metrics(names=[EXPERIMENT]), key=lambda m: m.fields.get("first_ns", m.time_ns))


async def rounds(request: Request) -> Response:
    """The round table of one experiment: one document per round, in round order."""
    agent = agent_of(request)
    try:
        store = _store(agent)
        first, last = round_param(request, "from_round"), round_param(request, "to_round")
        if first is not None and last is not None and last < first:
            raise BadRequest(400, f"parameter 'to_round': {last} is before from_round {first}", "to_round")
        experiment = request.query_params.get("experiment_id") or agent.context.experiment
        if not experiment:
            summaries = await _summaries(store)
            experiment = summaries[-1].tags.get("experiment_id") if summaries else None
    except BadRequest as error:
        return error_response(error)
    records: list[Metric] = []
    while experiment:
        page = await store.query_metrics(MetricQuery(names=[ROW, CLIENT], experiment=experiment, min_round=first,
                                                     max_round=last, limit=PAGE, offset=len(records), order="asc"))
        records += page
        if len(page) < PAGE:
            break
    documents = sorted(round_documents(records), key=lambda d: d["round"])
    return json_response({"experiment_id": experiment, "from_round": first, "to_round": last,
                          "count": len(documents), "rounds": documents})


async def experiments(request: Request) -> Response:
    """Every experiment the round table has seen, oldest first."""
    agent = agent_of(request)
    try:
        store = _store(agent)
    except BadRequest as error:
        return error_response(error)
    current = agent.context.experiment
    entries = [experiment_entry(summary, current) for summary in await _summaries(store)]
    return json_response({"count": len(entries), "experiments": entries})


async def experiment(request: Request) -> Response:
    """One experiment's manifest."""
    agent = agent_of(request)
    name = request.path_params["experiment_id"]
    try:
        store = _store(agent)
        summary = next((m for m in await _summaries(store) if m.tags.get("experiment_id") == name), None)
        if summary is None:
            raise BadRequest(404, f"no experiment {name!r} (GET /api/v1/experiments lists them)", "experiment_id")
    except BadRequest as error:
        return error_response(error)
    document = await manifest(StoreReader(store), name, summary, current=agent.context.experiment,
                              version=agent.version, live_config=resolved_config(agent))
    return json_response(document)


ROUTES = [
    Route("/api/v1/fl/rounds", rounds, methods=["GET"]),
    Route("/api/v1/experiments", experiments, methods=["GET"]),
    Route("/api/v1/experiments/{experiment_id}", experiment, methods=["GET"]),
]
