"""The HTTP client of monitors and remote sinks: httpx's, with each answer freed as soon as it is dropped.

httpx 0.28 wraps every answer's body stream in an object that points back at the answer (to stamp ``elapsed`` when
the stream closes): a reference cycle, so an answer and its body are freed only by CPython's cycle collector, not
when the last reference goes (encode/httpx#3733). The agent polls its sources about twenty times a second, so that
garbage is 10-20 MiB a minute of polled bodies waiting for a full collection: the saw-tooth of the soak's RSS
(BENCHMARKS.md, "Soak"). Once an answer is read (every request that does not ``stream``), its stream has done its
work; :class:`HttpClient` replaces it with an empty one, which breaks the cycle.
"""

from __future__ import annotations

from typing import Any

import httpx


class HttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose read answers hold no reference cycle (see the module docstring)."""

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        """Send ``request`` as httpx does; a read answer's closed stream is let go."""
        response = await super().send(request, stream=stream, **kwargs)
        if not stream:
            response.stream = httpx.ByteStream(b"")  # body already read and stream closed: only the cycle is left
        return response
