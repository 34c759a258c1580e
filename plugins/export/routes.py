"""The export API's routes: the spec's ``POST /api/v1/export`` and downloads, the list, and the HTML report.

Every error is JSON in the server's shape ``{"error": {"status": ..., "message": ..., "param": ...}}``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from flcollector import BulkStore, Selection
from flcollector.export import latest_experiment
from flcollector.loader import load_registry
from flcollector.selection import SelectionError, build_selection
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from .request import RequestError, parse_request
from .service import ExportService, QueueFull, ServiceDown

_EXPORT_ID = re.compile(r"[0-9a-f]{16}")


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response (orjson)."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def error(status: int, message: str, param: str | None = None) -> Response:
    """A JSON error in the server's shape."""
    body: dict[str, Any] = {"status": status, "message": message}
    if param is not None:
        body["param"] = param
    return json_response({"error": body}, status)


def routes(service: ExportService) -> list[BaseRoute]:
    """The routes of the export API over ``service``."""
    reports: dict[tuple[Any, ...], str] = {}  # the last report drawn, by what it was drawn from

    async def create_export(request: Request) -> Response:
        """Export records to a file in the background (the spec's ``POST /api/v1/export``); 200 when the export
        finished within the wait, 202 with ``status: running`` otherwise (poll ``GET /api/v1/exports/{id}``)."""
        try:
            wanted = parse_request(await request.body())
        except RequestError as exc:
            return error(400, str(exc), exc.field)
        store = service.agent.store
        if store is None:
            return error(503, "no store is configured: add [[sinks.sqlite]] to the config")
        if wanted.bucket_ns is not None and not isinstance(store, BulkStore):
            return error(400, f"aggregation needs a store that aggregates (sqlite); {type(store).__name__} "
                         "cannot: ask for raw", "aggregation")
        try:
            selection = build_selection(wanted.components, await store.metric_names(),
                                        experiment=wanted.experiment_id, start_ns=wanted.start_ns,
                                        end_ns=wanted.end_ns)
        except SelectionError as exc:
            return error(400, str(exc), exc.field)
        try:
            entry = await service.submit(wanted, selection)
        except (QueueFull, ServiceDown) as exc:
            return error(503, str(exc))
        await service.wait(entry.export_id, service.settings.wait_s)
        status = {"running": 202, "completed": 200, "failed": 500}[entry.status]
        return json_response(entry.public(), status)

    async def list_exports(request: Request) -> Response:
        """Every export that has not expired, newest first."""
        try:
            await service.ready()
        except ServiceDown as exc:
            return error(503, str(exc))
        entries = [entry.public() for entry in service.listing()]
        return json_response({"exports": entries, "count": len(entries)})

    async def export_status(request: Request) -> Response:
        """One export's state (poll this while it is ``running``)."""
        entry = await _entry(request)
        if entry is None:
            return _unknown(request)
        return json_response(entry.public())

    async def download(request: Request) -> Response:
        """The export's file, streamed, with its content type and a file name to save it under."""
        entry = await _entry(request)
        if entry is None:
            return _unknown(request)
        if entry.status != "completed":
            detail = f": {entry.error}" if entry.error else f"; poll /api/v1/exports/{entry.export_id}"
            return error(409, f"export {entry.export_id} is {entry.status}{detail}")
        path = service.file_of(entry)
        if path is None:
            return error(404, f"the file of export {entry.export_id} is gone from {service.settings.directory}")
        return FileResponse(path, media_type=entry.content_type, filename=entry.filename)

    async def report(request: Request) -> Response:
        """The experiment's HTML report (``experiment_id``; default the latest), as ``flcollector report`` writes."""
        store = service.agent.store
        if store is None:
            return error(503, "no store is configured: add [[sinks.sqlite]] to the config")
        if not isinstance(store, BulkStore):  # a capability this agent lacks, not a failure: no report here
            return error(404, f"no report: the report needs a store that streams and aggregates (sqlite); "
                         f"{type(store).__name__} does not")
        experiment = request.query_params.get("experiment_id") or await latest_experiment(store)
        facts = await store.selection_facts(Selection(experiment=experiment))
        if not facts["metrics"] and not facts["events"]:
            return error(404, f"no records of experiment {experiment!r}", "experiment_id")
        key = (experiment, facts["metrics"], facts["events"], facts["last_ns"])
        if key in reports:  # nothing was stored since it was drawn
            return HTMLResponse(reports[key])
        registry = getattr(service.agent, "registry", None) or load_registry()
        exporter = registry.get("exporter", "report")
        if exporter is None:
            return error(501, "the report exporter is not installed")
        try:
            text = await exporter().render(store, Selection(experiment=experiment))
        except RuntimeError as exc:  # matplotlib missing: say what to install
            return error(501, str(exc))
        reports.clear()
        reports[key] = text
        return HTMLResponse(text)

    async def _entry(request: Request) -> Any:
        try:
            await service.ready()
        except ServiceDown:
            return None  # nothing can be found: the list and the POST say why
        export_id = request.path_params["export_id"]
        return service.get(export_id) if _EXPORT_ID.fullmatch(export_id) else None

    def _unknown(request: Request) -> Response:
        return error(404, f"no export {request.path_params['export_id']!r} (unknown, or expired and deleted)",
                     "export_id")

    return [
        Route("/api/v1/export", create_export, methods=["POST"]),
        Route("/api/v1/exports", list_exports, methods=["GET"]),
        Route("/api/v1/exports/{export_id}", export_status, methods=["GET"]),
        Route("/api/v1/downloads/{export_id}", download, methods=["GET"]),
        Route("/api/v1/report", report, methods=["GET"]),
    ]
