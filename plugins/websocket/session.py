"""One client of ``WS /ws/metrics``: subscribe/unsubscribe, backfill, keepalive, drop notices and closing.

Client messages: ``{"action": "subscribe" | "unsubscribe", "streams": [...], "backfill": N, "batch": bool}`` and
``{"action": "ping"}``. ``?streams=a,b`` on the URL subscribes at connect. A bad message gets an ``error`` frame
and the connection stays open. At shutdown every socket is closed with 1001 (going away).

A client that reads nothing for ``send_timeout`` (or leaves too many replies unread) is closed with 1008 and a
reason, and counted in ``ws_slow_closed``. A client that stops reading altogether cannot take even the close frame:
the server's ``stall_timeout`` has the kernel drop it, and a connection that ends without a close handshake while
messages wait for it is counted the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import trio
from flcollector import EventQuery, MetricQuery, Record
from starlette.websockets import WebSocket, WebSocketDisconnect

from .hub import Client
from .streams import ALL, METRIC_PREFIXES, STREAMS, control, message

if TYPE_CHECKING:
    from .sink import WebSocketSink

#: How often, at most, the watchdog looks at a client's current send (a fraction of ``send_timeout``).
WATCH_EVERY_S = 1.0
#: The close code of a connection that ended without a close handshake (RFC 6455 §7.4.1).
ABNORMAL_CLOSURE = 1006


async def serve(sink: WebSocketSink, websocket: WebSocket) -> None:
    """Stream live records to one client until it leaves, is closed, or the agent shuts down."""
    await websocket.accept()
    options = sink.options
    client = Client(options.queue_size, options.backfill_size)
    client.batch = options.batch
    initial = [s.strip() for s in websocket.query_params.get("streams", "").split(",") if s.strip()]
    if initial:
        await handle(sink, client, {"action": "subscribe", "streams": initial})
    reply(sink, client, control("welcome", streams=list(sink.known), subscribed=sorted(client.streams)))
    sink.hub.add(client)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_receive, sink, websocket, client, nursery.cancel_scope)
            nursery.start_soon(_keepalive, sink, client)
            nursery.start_soon(_watch, sink, client)
            await _send(sink, websocket, client)
            nursery.cancel_scope.cancel()
    finally:
        sink.hub.remove(client)
        if client.disconnect_code == ABNORMAL_CLOSURE and client.pending():
            sink.hub.close(client, "not reading: the connection dropped with messages undelivered")


def _next_frame(client: Client) -> str:
    """The next frame to send: replies first, then a drop notice, then backfill, then live messages."""
    if client.control:
        return client.control.popleft()
    if client.dropped:  # checked before every message, so a backlog never hides the notice
        count, client.dropped = client.dropped, 0
        return control("dropped", count=count, total=client.dropped_total)
    if client.backfill:
        return client.backfill.popleft()
    if client.batch:  # everything queued goes in one frame
        texts = list(client.queue)
        client.queue.clear()
        return f'{{"type":"batch","count":{len(texts)},"data":[{",".join(texts)}]}}'
    return client.queue.popleft()


async def _send(sink: WebSocketSink, websocket: WebSocket, client: Client) -> None:
    """Send until the client leaves, is closed as not reading, or the agent shuts down."""
    stopping = sink.stopping
    try:
        while True:
            await client.wait()
            while client.pending() and client.close_reason is None and not stopping.is_set():
                text = _next_frame(client)
                client.sending_since = trio.current_time()
                await websocket.send_text(text)
                client.sending_since = None
            if client.close_reason is not None:
                await websocket.close(code=1008, reason=client.close_reason)
                return
            if stopping.is_set():
                await websocket.close(code=1001, reason="agent shutting down")
                return
    except (WebSocketDisconnect, OSError, RuntimeError):
        return  # the client went away mid-send; nothing to tell it


async def _receive(sink: WebSocketSink, websocket: WebSocket, client: Client, scope: trio.CancelScope) -> None:
    """Read client messages; a disconnect ends the connection."""
    while True:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            client.disconnect_code = event.get("code")
            scope.cancel()
            return
        raw = event.get("text") if event.get("text") is not None else event.get("bytes")
        try:
            request = orjson.loads(raw or b"")
        except orjson.JSONDecodeError as exc:
            reply(sink, client, control("error", message=f"message is not JSON: {exc}"))
            continue
        await handle(sink, client, request)


def reply(sink: WebSocketSink, client: Client, text: str) -> None:
    """Queue a control message; a client that left its whole reply queue unread is closed as not reading."""
    if not client.say(text):
        sink.hub.close(client, f"not reading: {client.control_size} replies unread")


async def handle(sink: WebSocketSink, client: Client, request: Any) -> None:
    """Apply one client request; reply with an ``error`` frame when it is malformed."""
    if not isinstance(request, dict):
        reply(sink, client, control("error", message='expected a JSON object like {"action": "subscribe", ...}'))
        return
    action = request.get("action")
    if action == "ping":
        reply(sink, client, control("pong"))
        return
    if action not in ("subscribe", "unsubscribe"):
        problem = f"unknown action {action!r}; expected subscribe, unsubscribe or ping"
        reply(sink, client, control("error", message=problem))
        return
    streams = request.get("streams", [])
    if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
        reply(sink, client, control("error", message="'streams' must be a list of stream names"))
        return
    unknown = [s for s in streams if s not in sink.known]
    if unknown:
        reply(sink, client, control("error", message=f"unknown streams {unknown}; known: {', '.join(sink.known)}"))
        return
    backfill = request.get("backfill", 0)
    if isinstance(backfill, bool) or not isinstance(backfill, int) or backfill < 0:
        reply(sink, client, control("error", message="'backfill' must be a non-negative integer"))
        return
    if isinstance(request.get("batch"), bool):
        client.batch = request["batch"]
    if action == "unsubscribe":
        client.streams.difference_update(streams)
    else:
        client.streams.update(streams)
    reply(sink, client, control("subscribed", streams=sorted(client.streams)))
    if action == "subscribe" and backfill:
        records = await recent(sink, set(streams), min(backfill, sink.options.backfill_size))
        dropped = client.offer_backfill([message(record, backfill=True)[0] for record in records])
        if dropped:
            sink.hub.stats.count("ws_dropped", dropped)


async def recent(sink: WebSocketSink, streams: set[str], count: int) -> list[Record]:
    """The last ``count`` stored records that belong to ``streams``, oldest first."""
    store = sink.store
    if store is None:
        return []
    wanted = set(STREAMS) if ALL in streams else streams
    found: list[Record] = []
    if "system" in wanted:  # the stream of everything unclassified: no prefix selects it
        found += await store.query_metrics(MetricQuery(limit=count * 4, order="desc"))
    for stream, prefixes in METRIC_PREFIXES.items():
        if stream in wanted:
            for prefix in prefixes:
                found += await store.query_metrics(MetricQuery(name_prefix=prefix, limit=count, order="desc"))
    found += await store.query_events(EventQuery(limit=count * 4, order="desc"))
    matching: dict[str, Record] = {}
    for record in found:  # the queries overlap; the serialised message identifies a record
        text, record_streams = message(record)
        if not record_streams.isdisjoint(wanted):
            matching[text] = record
    return sorted(matching.values(), key=lambda r: r.time_ns)[-count:]


async def _keepalive(sink: WebSocketSink, client: Client) -> None:
    """Send a ``ping`` message every ``keepalive`` so proxies keep an idle connection open."""
    interval = float(sink.options.keepalive)
    if interval <= 0:
        return
    while True:
        await trio.sleep(interval)
        reply(sink, client, control("ping"))


async def _watch(sink: WebSocketSink, client: Client) -> None:
    """Close the client when one send has waited ``send_timeout`` (its socket takes nothing); wake it at shutdown.

    hypercorn cannot interrupt that send; the close frame follows it, and the server's ``stall_timeout`` has the
    kernel drop a connection that stays stuck.
    """
    timeout = float(sink.options.send_timeout)
    every = min(WATCH_EVERY_S, timeout / 4) if timeout > 0 else float("inf")
    while not sink.stopping.is_set():
        with trio.move_on_after(every):
            await sink.stopping.wait()
        started = client.sending_since
        if timeout > 0 and started is not None and trio.current_time() - started >= timeout:
            sink.hub.close(client, f"not reading: nothing could be sent for {timeout:g}s")
    client.wake()
