"""HTTP delivery for remote sinks: one pooled client, optional gzip, and the one place answers are classified.

=====================================  ==========================================================================
answer                                  meaning for the sink
=====================================  ==========================================================================
2xx                                     delivered
400, 413, 422 (and other 4xx)           :class:`RemoteRejected`: the content is bad or too big; split, then drop
401, 403, 404                           :class:`RemoteUnavailable` (unhealthy): a wrong token, org, bucket or
                                        database; the operator can fix it, so nothing is dropped
408, 425, 429, 5xx                      :class:`RemoteUnavailable` (unhealthy), honouring ``Retry-After``
no answer (refused, reset, timed out)   :class:`RemoteUnavailable` (unreachable)
=====================================  ==========================================================================
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping

import httpx

from .httpclient import HttpClient
from .remote import RemoteRejected, RemoteSink, RemoteUnavailable

#: Statuses retried rather than dropped: the remote or its configuration will change, the content need not.
RETRIED = frozenset({401, 403, 404, 408, 425, 429})
MAX_REASON = 300  # characters of the remote's error body kept in logs and /health


def gzip_body(body: bytes, level: int = 1) -> bytes:
    """Gzip ``body`` (level 1: most of the saving for a fraction of the CPU of level 6)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(body) + compressor.flush()


def auth_headers(token: str = "", username: str = "", password: str = "", *, scheme: str = "Bearer"
                 ) -> dict[str, str]:
    """``Authorization: <scheme> <token>`` when a token is set, else HTTP Basic when a username is, else none."""
    if token:
        return {"Authorization": f"{scheme} {token}"}
    if username:
        return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}
    return {}


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:  # an HTTP date, or junk: our own back-off decides
        return 0.0


def check_response(response: httpx.Response, what: str) -> None:
    """Raise the exception a non-2xx ``response`` means for ``what`` (e.g. ``"InfluxDB /write"``)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"{what} answered {status}: {response.text.strip()[:MAX_REASON]}"
    if status in RETRIED or status >= 500:
        raise RemoteUnavailable(reason, retry_after=_retry_after(response), status=status)
    raise RemoteRejected(reason, status=status)


class HttpTarget:
    """A pooled HTTP client for one remote, posting bodies and classifying the answers."""

    def __init__(self, base_url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
                 gzip: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.gzip = gzip
        self.client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        """Create the client (one connection kept alive: the sink sends one request at a time)."""
        self.client = HttpClient(
            timeout=self.timeout, headers=self.headers,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=1),
        )

    async def close(self) -> None:
        """Close the client."""
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def request(self, method: str, path: str, what: str, *, content: bytes | None = None,
                      params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
                      ) -> httpx.Response:
        """Request ``base_url + path`` (``""``: the URL itself); raise unless it was answered with a 2xx."""
        assert self.client is not None, "request() before open()"
        try:
            response = await self.client.request(method, self.base_url + path, content=content, params=params,
                                                 headers=headers)
        except httpx.TimeoutException as exc:
            raise RemoteUnavailable(f"{what}: no answer within {self.timeout:g}s ({type(exc).__name__})",
                                    unreachable=True) from None
        except httpx.TransportError as exc:
            raise RemoteUnavailable(f"{what}: {type(exc).__name__}: {exc}", unreachable=True) from None
        check_response(response, what)
        return response

    async def post(self, path: str, body: bytes, what: str, *, content_type: str,
                   params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
                   ) -> httpx.Response:
        """POST ``body`` (gzipped when enabled) and classify the answer."""
        sent = {"Content-Type": content_type, **(headers or {})}
        if self.gzip:
            body = gzip_body(body)
            sent["Content-Encoding"] = "gzip"
        return await self.request("POST", path, what, content=body, params=params, headers=sent)


class HttpRemoteSink(RemoteSink):
    """A remote sink speaking HTTP through ``self.http`` (an :class:`HttpTarget` its ``__init__`` creates)."""

    http: HttpTarget

    async def connect(self) -> None:
        """Open the HTTP client."""
        await self.http.open()

    async def disconnect(self) -> None:
        """Close the HTTP client."""
        await self.http.close()
