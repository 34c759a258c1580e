"""How an ingest request's records are accepted, acknowledged, and answered even when the agent stops meanwhile.

``[server] ingest_ack`` chooses what a 2xx means:

* ``"durable"`` (the default): every durable sink (the ``sqlite`` store, the ``jsonl`` archive) committed the
  records. A crash of the agent, even ``kill -9``, loses nothing that was acknowledged. The cost is latency: the
  answer waits for the write (the sinks' batchers write at once while a client waits; see BENCHMARKS.md).
* ``"accepted"``: the records are in the pipeline's memory. Faster to answer, but a crash loses what was
  acknowledged and not yet written: the records in the sinks' buffers (at most ``buffer_size`` each, usually what
  arrived in the last ``flush_interval``, 1 s by default) and the batch being written.

When the storage cannot write (a durable sink's last write failed for lack of storage: disk full, read-only), ingest
answers 503 with ``Retry-After`` at once, in both modes, until a write succeeds again; in durable mode, records that
were sent but not committed are a 503 too. Either way the client knows to send them again.

A request is *accepted* once its first records are handed to the pipeline. From then on, the rest of it (more
pieces of a big body, the wait for the commit, the answer itself) is shielded from cancellation, so a SIGTERM during
an accepted request still answers it (hypercorn's graceful shutdown would otherwise cut it after
``graceful_timeout``, and a client retrying an unanswered request duplicates it). The shield lasts at most
``ack_timeout`` plus a margin.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio
from flcollector import Receipt, Record
from starlette.requests import Request
from starlette.responses import Response

from .jsonio import JSONResponse, error_response
from .state import ServerState, state_of

log = logging.getLogger("flcollector.listener.server")

#: Beyond ``ack_timeout``, how long an accepted request may still take to be answered before it is cut anyway.
ANSWER_MARGIN_S = 5.0

Handler = Callable[[Request, "Delivery"], Awaitable[Response]]


class StorageUnavailable(Exception):
    """The records cannot be stored now; answered 503 with ``Retry-After`` (the server's ``retry_after``)."""


class Delivery:
    """One ingest request's records on their way into the pipeline, and the answer they earn."""

    def __init__(self, server: ServerState, guard: trio.CancelScope) -> None:
        self.server = server
        self.guard = guard
        options = server.options
        self.durable = options.ingest_ack == "durable" and server.agent.durable_sinks > 0
        self.timeout = float(options.ack_timeout)
        self.receipts: list[Receipt] = []
        self.sent = 0
        self.deadline = float("inf")

    def refuse_if_storage_fails(self) -> None:
        """Raise :class:`StorageUnavailable` while a durable sink cannot write (checked before reading a body)."""
        problem = self.server.agent.storage_problem(float(self.server.options.retry_after))
        if problem is not None:
            raise StorageUnavailable(f"the store cannot write: {problem}")

    async def send(self, records: Sequence[Record]) -> None:
        """Hand ``records`` to the pipeline; the first call accepts the request (see the module docstring)."""
        receipt = Receipt() if self.durable else None
        await self.server.agent.send(records, receipt=receipt)
        if self.sent == 0:
            self.deadline = trio.current_time() + self.timeout
            self.guard.shield = True  # accepted: the answer must reach the client, shutdown or not
            self.guard.deadline = self.deadline + ANSWER_MARGIN_S
        if receipt is not None:
            self.receipts.append(receipt)
        self.sent += len(records)
        self.server.stats.count("records_in", len(records))

    async def answer(self, ok: Response) -> Response:
        """``ok`` once the records are acknowledged as configured; a 503 naming why when they were not."""
        if not self.receipts:
            return ok
        with trio.move_on_at(self.deadline):
            problems = [p for receipt in self.receipts if not await receipt.wait() for p in receipt.problems]
            if not problems:
                return ok
            self.server.stats.count("ingest_not_committed", self.sent)
            message = f"the records were not committed: {'; '.join(problems[:3])}"
            return _unavailable(self.server, f"{message}; send them again (some may then be stored twice)")
        self.server.stats.count("ingest_not_committed", self.sent)
        return _unavailable(
            self.server, f"the records were not committed within ack_timeout ({self.timeout:g} s); they may still be"
        )


def _unavailable(server: ServerState, message: str) -> JSONResponse:
    retry = f"{max(1, round(float(server.options.retry_after)))}"
    return error_response(503, message, headers={"retry-after": retry})


async def storage_unavailable(request: Request, exc: Exception) -> Response:
    """The app's handler of :class:`StorageUnavailable`: 503 with ``Retry-After``."""
    server = state_of(request)
    server.stats.count("ingest_refused")
    return _unavailable(server, str(exc))


class AnsweredOnceAccepted:
    """The ASGI app of an ingest route: runs ``handler(request, delivery)`` and sends its response inside one cancel
    scope, which :meth:`Delivery.send` shields once the request is accepted (a plain Starlette route would send the
    response outside the handler, where a shutdown's cancellation still cuts it)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        functools.update_wrapper(self, handler)  # the OpenAPI document reads the handler's docstring and module

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one request."""
        request = Request(scope, receive, send)
        with trio.CancelScope() as guard:
            delivery = Delivery(state_of(request), guard)
            response = await self.handler(request, delivery)
            await response(scope, receive, send)
        if guard.cancelled_caught and delivery.sent:
            log.error("%s: an accepted request (%d records) was cut after ack_timeout + %g s without an answer",
                      request.url.path, delivery.sent, ANSWER_MARGIN_S)
