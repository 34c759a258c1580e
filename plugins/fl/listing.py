"""One page of a list the FL server serves inside an object (``/events`` → ``events``, ``/rounds`` → ``rounds``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from flcollector import EndpointError, get_json


async def get_page(
    client: httpx.AsyncClient, path: str, key: str, params: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Any]]:
    """GET ``path`` and return its body and the list under ``key``; raise ``EndpointError`` when either is missing."""
    body = await get_json(client, path, params=params, expect=dict)
    page = body.get(key)
    if not isinstance(page, list):
        raise EndpointError(path, f"key {key!r} missing or not a list")
    return body, page
