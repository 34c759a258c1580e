"""Answers as Flask 2.2 writes them, for the emulators of FLOPY-NET's Flask services (FL server, policy engine).

``jsonify`` sorts keys, separates compactly, ends with a newline and, like Python's ``json``, writes ``NaN`` for
a float it cannot represent in JSON (which a strict parser refuses: a real hazard for a collector). Errors that a
route does not catch become Werkzeug's HTML pages, not JSON.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response


def jsonify(body: Any, status: int = 200) -> Response:
    """``flask.jsonify(body)``, with ``status``."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n"
    return Response(text.encode(), status_code=status, media_type="application/json")


def _page(code: int, title: str, text: str) -> Response:
    body = f"<!doctype html>\n<html lang=en>\n<title>{code} {title}</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
    return Response(body.encode(), status_code=code, media_type="text/html; charset=utf-8")


def internal_error() -> Response:
    """Werkzeug's 500 page: what an exception a route does not catch answers."""
    return _page(
        500,
        "Internal Server Error",
        "The server encountered an internal error and was unable to complete your request. Either the server is"
        " overloaded or there is an error in the application.",
    )


async def not_found(request: Request, exc: Exception) -> Response:
    """Werkzeug's 404 page (Flask's default when the app registers no 404 handler)."""
    return _page(
        404,
        "Not Found",
        "The requested URL was not found on the server. If you entered the URL manually please check your spelling"
        " and try again.",
    )


def arg(request: Request, name: str) -> str | None:
    """``request.args.get(name)``: Werkzeug answers the *first* value of a repeated parameter."""
    values = request.query_params.getlist(name)
    return values[0] if values else None


def float_arg(request: Request, name: str) -> float | None:
    """``request.args.get(name, type=float)``: a value ``float()`` refuses counts as absent."""
    raw = arg(request, name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
