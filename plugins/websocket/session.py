"""``WS /ws/metrics``: live records by stream, with subscribe/unsubscribe, backfill, keepalive and drop notices.

Client messages: ``{"action": "subscribe" | "unsubscribe", "streams": [...], "backfill": N, "batch": bool}`` and
``{"action": "ping"}``. ``?streams=a,b`` on the URL subscribes at connect. A bad message gets an ``error`` frame
and the connection stays open. At shutdown the server closes every socket with 1001 (going away).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import trio
from flcollector import EventQuery, MetricQuery, Record
from flcollector.plugins.server.state import ServerState, state_of
from starlette.websockets import WebSocket, WebSocketDisconnect

from .hub import Client
from .streams import ALL, STREAMS, control, message

log = logging.getLogger("flcollector.listener.server")

KNOWN = (*STREAMS, ALL)
PREFIXES = {"fl_training": ("fl_",), "network_performance": ("network", "sdn_", "probe_"), "policy_events": ("policy",)}


async def ws_metrics(websocket: WebSocket) -> None:
    """Stream live records to one client until it leaves or the agent shuts down."""
    server = state_of(websocket)
    await websocket.accept()
    client = Client(server.options.ws_queue_size)
    initial = [s.strip() for s in websocket.query_params.get("streams", "").split(",") if s.strip()]
    if initial:
        await handle(server, client, {"action": "subscribe", "streams": initial})
    client.say(control("welcome", streams=list(KNOWN), subscribed=sorted(client.streams)))
    server.hub.add(client)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_receive, server, websocket, client, nursery.cancel_scope)
            nursery.start_soon(_keepalive, server, client)
            nursery.start_soon(_close_at_shutdown, server, client)
            await _send(server, websocket, client)
            nursery.cancel_scope.cancel()
    finally:
        server.hub.remove(client)


async def _send(server: ServerState, websocket: WebSocket, client: Client) -> None:
    """Send control messages, drop notices and live messages until the client leaves or the server closes."""
    try:
        while True:
            await client.wait()
            while client.control or client.dropped or client.queue:
                if server.closing.is_set():
                    break
                if client.control:  # replies and errors first
                    await websocket.send_text(client.control.popleft())
                elif client.dropped:  # checked before every message, so a backlog never hides the notice
                    count, client.dropped = client.dropped, 0
                    await websocket.send_text(control("dropped", count=count, total=client.dropped_total))
                elif client.batch:  # everything queued goes in one frame
                    texts = list(client.queue)
                    client.queue.clear()
                    await websocket.send_text(f'{{"type":"batch","count":{len(texts)},"data":[{",".join(texts)}]}}')
                else:
                    await websocket.send_text(client.queue.popleft())
            if server.closing.is_set():
                await websocket.close(code=1001, reason="agent shutting down")
                return
    except (WebSocketDisconnect, OSError, RuntimeError):
        return  # the client went away mid-send; nothing to tell it


async def _receive(server: ServerState, websocket: WebSocket, client: Client, scope: trio.CancelScope) -> None:
    """Read client messages; a disconnect ends the connection."""
    while True:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            scope.cancel()
            return
        raw = event.get("text") if event.get("text") is not None else event.get("bytes")
        try:
            request = orjson.loads(raw or b"")
        except orjson.JSONDecodeError as exc:
            client.say(control("error", message=f"message is not JSON: {exc}"))
            continue
        await handle(server, client, request)


async def handle(server: ServerState, client: Client, request: Any) -> None:
    """Apply one client request; reply with an ``error`` frame when it is malformed."""
    if not isinstance(request, dict):
        client.say(control("error", message='expected a JSON object like {"action": "subscribe", ...}'))
        return
    action = request.get("action")
    if action == "ping":
        client.say(control("pong"))
        return
    if action not in ("subscribe", "unsubscribe"):
        client.say(control("error", message=f"unknown action {action!r}; expected subscribe, unsubscribe or ping"))
        return
    streams = request.get("streams", [])
    if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
        client.say(control("error", message="'streams' must be a list of stream names"))
        return
    unknown = [s for s in streams if s not in KNOWN]
    if unknown:
        client.say(control("error", message=f"unknown streams {unknown}; known: {', '.join(KNOWN)}"))
        return
    backfill = request.get("backfill", 0)
    if isinstance(backfill, bool) or not isinstance(backfill, int) or backfill < 0:
        client.say(control("error", message="'backfill' must be a non-negative integer"))
        return
    if isinstance(request.get("batch"), bool):
        client.batch = request["batch"]
    if action == "unsubscribe":
        client.streams.difference_update(streams)
    else:
        client.streams.update(streams)
    client.say(control("subscribed", streams=sorted(client.streams)))
    if action == "subscribe" and backfill:
        for record in await recent(server, set(streams), min(backfill, server.options.ws_queue_size)):
            client.say(message(record, backfill=True)[0])


async def recent(server: ServerState, streams: set[str], count: int) -> list[Record]:
    """The last ``count`` stored records that belong to ``streams``, oldest first."""
    store = server.agent.store
    if store is None:
        return []
    wanted = set(STREAMS) if ALL in streams else streams
    found: list[Record] = []
    prefixes = [p for s in wanted for p in PREFIXES.get(s, ())]
    if "system" in wanted:
        found += await store.query_metrics(MetricQuery(limit=count * 4, order="desc"))
    for prefix in prefixes:
        found += await store.query_metrics(MetricQuery(name_prefix=prefix, limit=count, order="desc"))
    found += await store.query_events(EventQuery(limit=count * 4, order="desc"))
    matching: dict[str, Record] = {}
    for record in found:  # the queries overlap; the serialised message identifies a record
        text, record_streams = message(record)
        if not record_streams.isdisjoint(wanted):
            matching[text] = record
    return sorted(matching.values(), key=lambda r: r.time_ns)[-count:]


async def _keepalive(server: ServerState, client: Client) -> None:
    """Send a ``ping`` message every ``ws_keepalive`` so proxies keep an idle connection open."""
    interval = float(server.options.ws_keepalive)
    if interval <= 0:
        return
    while True:
        await trio.sleep(interval)
        client.say(control("ping"))


async def _close_at_shutdown(server: ServerState, client: Client) -> None:
    await server.closing.wait()
    client.wake()
