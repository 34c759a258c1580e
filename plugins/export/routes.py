"""The export API's routes: the spec's ``POST /api/v1/export`` and downloads, the list, and the HTML report.

Module-level handlers: each finds the ``export`` listener's service through the agent behind its request. Answers
and errors are the server's (``plugins/server/jsonio.py``): errors are ``{"error": {"status", "message", "param"}}``,
``param`` naming the field at fault.
"""

from __future__ import annotations

import re
from typing import Any

from flcollector import BulkStore, Selection, agent_of
from flcollector.export import latest_experiment
from flcollector.plugins.server.jsonio import JSONResponse, error_response
from flcollector.selection import SelectionError, build_selection
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from .manifest import ExportEntry
from .request import RequestError, parse_request
from .service import ExportService, QueueFull, ServiceDown

_EXPORT_ID = re.compile(r"[0-9a-f]{16}")
NO_STORE = "no store is configured: add [[sinks.sqlite]] to the config"


def service_of(request: Request) -> ExportService:
    """The export service of the agent behind ``request`` (the routes exist only while the listener does)."""
    listener: Any = agent_of(request).find("listener", "export")
    service: ExportService = listener.service
    return service


def error(status: int, message: str, param: str | None = None) -> JSONResponse:
    """A JSON error in the server's shape, naming ``param`` when a field is at fault."""
    return error_response(status, message) if param is None else error_response(status, message, param=param)


async def create_export(request: Request) -> Response:
    """Export records to a file in the background (the spec's ``POST /api/v1/export``); 200 when the export
    finished within the wait, 202 with ``status: running`` otherwise (poll ``GET /api/v1/exports/{id}``)."""
    service = service_of(request)
    try:
        wanted = parse_request(await request.body())
    except RequestError as exc:
        return error(400, str(exc), exc.field)
    store = service.agent.store
    if store is None:
        return error(503, NO_STORE)
    if wanted.bucket_ns is not None and not isinstance(store, BulkStore):
        return error(400, f"aggregation needs a store that aggregates (sqlite); {type(store).__name__} cannot: "
                     "ask for raw", "aggregation")
    try:
        selection = build_selection(wanted.components, await store.metric_names(), experiment=wanted.experiment_id,
                                    start_ns=wanted.start_ns, end_ns=wanted.end_ns)
    except SelectionError as exc:
        return error(400, str(exc), exc.field)
    try:
        entry = await service.submit(wanted, selection)
    except (QueueFull, ServiceDown) as exc:
        return error(503, str(exc))
    await service.wait(entry.export_id, service.settings.wait_s)
    status = {"running": 202, "completed": 200, "failed": 500}[entry.status]
    return JSONResponse(entry.public(), status_code=status)


async def list_exports(request: Request) -> Response:
    """Every export that has not expired, newest first."""
    service = service_of(request)
    try:
        await service.ready()
    except ServiceDown as exc:
        return error(503, str(exc))
    entries = [entry.public() for entry in service.listing()]
    return JSONResponse({"exports": entries, "count": len(entries)})


async def export_status(request: Request) -> Response:
    """One export's state (poll this while it is ``running``)."""
    entry = await _entry(request)
    return _unknown(request) if entry is None else JSONResponse(entry.public())


async def download(request: Request) -> Response:
    """The export's file, streamed, with its content type and a file name to save it under."""
    entry = await _entry(request)
    if entry is None:
        return _unknown(request)
    if entry.status != "completed":
        detail = f": {entry.error}" if entry.error else f"; poll /api/v1/exports/{entry.export_id}"
        return error(409, f"export {entry.export_id} is {entry.status}{detail}")
    service = service_of(request)
    path = service.file_of(entry)
    if path is None:
        return error(404, f"the file of export {entry.export_id} is gone from {service.settings.directory}")
    return FileResponse(path, media_type=entry.content_type, filename=entry.filename)


async def report(request: Request) -> Response:
    """The experiment's HTML report (``experiment_id``; default the latest), as ``flcollector report`` writes."""
    agent = agent_of(request)
    store = agent.store
    if store is None:
        return error(503, NO_STORE)
    if not isinstance(store, BulkStore):  # a capability this agent lacks, not a failure: no report here
        return error(404, f"no report: the report needs a store that streams and aggregates (sqlite); "
                     f"{type(store).__name__} does not")
    experiment = request.query_params.get("experiment_id") or await latest_experiment(store)
    facts = await store.selection_facts(Selection(experiment=experiment))
    if not facts["metrics"] and not facts["events"]:
        if experiment is None:
            return error(404, "no records stored yet: nothing to report")
        return error(404, f"no records of experiment {experiment!r}", "experiment_id")
    reports = service_of(request).reports
    key = (experiment, facts["metrics"], facts["events"], facts["last_ns"])
    if key in reports:  # nothing was stored since it was drawn
        return HTMLResponse(reports[key])
    exporter: Any = agent.exporter("report")
    if exporter is None:
        return error(501, "the report exporter is not installed")
    try:
        text = await exporter().render(store, Selection(experiment=experiment))
    except RuntimeError as exc:  # matplotlib missing: say what to install
        return error(501, str(exc))
    reports.clear()
    reports[key] = text
    return HTMLResponse(text)


async def _entry(request: Request) -> ExportEntry | None:
    service = service_of(request)
    try:
        await service.ready()
    except ServiceDown:
        return None  # nothing can be found: the list and the POST say why
    export_id = request.path_params["export_id"]
    return service.get(export_id) if _EXPORT_ID.fullmatch(export_id) else None


def _unknown(request: Request) -> Response:
    return error(404, f"no export {request.path_params['export_id']!r} (unknown, or expired and deleted)",
                 "export_id")


ROUTES = [
    Route("/api/v1/export", create_export, methods=["POST"]),
    Route("/api/v1/exports", list_exports, methods=["GET"]),
    Route("/api/v1/exports/{export_id}", export_status, methods=["GET"]),
    Route("/api/v1/downloads/{export_id}", download, methods=["GET"]),
    Route("/api/v1/report", report, methods=["GET"]),
]
