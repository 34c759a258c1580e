"""HTTP for source monitors: the one model of what an answer means, concurrent endpoints, and a bounded set of ids
already stored (for exactly-once polling of cursors and time windows).

The model, the same for every monitor:

- The source does not answer (connect error, timeout), refuses us (401/403), or answers 5xx on its *main* endpoint
  (its health check): it is **unavailable**, :class:`~flcollector.SourceUnavailable` (the core backs off and
  reports it once).
- Any other endpoint answering 5xx is an :class:`EndpointError` with ``malformed=False`` (an ``ENDPOINT_ERROR``
  event); a 4xx, a body that is not JSON, or JSON of the wrong shape is one with ``malformed=True`` (a
  ``MALFORMED_RESPONSE`` event). The monitor reports it and keeps the data of the other endpoints.
- A 404 on an endpoint a source may lack returns :data:`NOT_FOUND` when the caller allows it.
- :func:`settle` judges a whole poll: when no endpoint answered usefully it raises ``MalformedResponse`` (every
  one answered nonsense) or ``SourceUnavailable`` (every one failed, one of them with a server error).
- :func:`endpoint_error_event` turns one failed endpoint into its counted, logged ERROR event.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import orjson
import trio

from .errors import MalformedResponse, SourceUnavailable
from .records import Event

if TYPE_CHECKING:
    from .components import Runtime

#: Returned by :func:`get_json` for a 404 when the caller allows it (an endpoint this source does not have).
NOT_FOUND: Any = object()

#: an endpoint's key in a poll (a path, or a tuple for per-switch requests)
K = TypeVar("K", bound=Hashable)


class EndpointError(Exception):
    """One endpoint failed while the source as a whole answered; ``malformed`` tells a bad shape from a failure."""

    def __init__(self, endpoint: str, reason: str, *, malformed: bool = True) -> None:
        super().__init__(f"{endpoint}: {reason}")
        self.endpoint = endpoint
        self.reason = reason
        self.malformed = malformed


def _url(client: httpx.AsyncClient, path: str) -> str:
    return f"{str(client.base_url).rstrip('/')}{path}"


async def get_json(
    client: httpx.AsyncClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    main: bool = False,
    allow_404: bool = False,
    expect: type | None = None,
) -> Any:
    """GET ``path`` and return its decoded JSON body, classified by the model in the module docstring.

    Raises :class:`SourceUnavailable` (its message names the URL) when the source cannot be reached, refuses us
    (401/403) or, for the ``main`` endpoint, answers 5xx; :class:`EndpointError` for any other bad answer,
    including a body that is not an instance of ``expect`` when given (e.g. ``dict``, ``list``). A 404 returns
    :data:`NOT_FOUND` when ``allow_404`` is set.
    """
    try:
        response = await client.get(path, params=dict(params) if params else None)
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(f"{_url(client, path)}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise SourceUnavailable(f"{_url(client, path)}: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status in (401, 403) or (status >= 500 and main):
        raise SourceUnavailable(f"{_url(client, path)}: HTTP {status}")
    if status == 404 and allow_404:
        return NOT_FOUND
    if status >= 400:
        raise EndpointError(path, f"HTTP {status}", malformed=status < 500)
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise EndpointError(path, f"not JSON ({exc})") from None
    if expect is not None and not isinstance(body, expect):
        raise EndpointError(path, f"expected a JSON {_JSON_NAMES.get(expect, expect.__name__)}, got {_json_name(body)}")
    return body


_JSON_NAMES: dict[type, str] = {dict: "object", list: "array", str: "string", bool: "boolean"}


def _json_name(value: Any) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), "number")


def settle(results: Mapping[K, Any]) -> dict[K, EndpointError]:
    """Return the endpoints of one poll that failed (``{key: EndpointError}``), judging the poll as a whole.

    Raises :class:`~flcollector.MalformedResponse` when every endpoint answered nonsense, and
    :class:`SourceUnavailable` when every endpoint failed and at least one with a server error (5xx): then there is
    nothing to keep, and the core reports the source once instead of one error event per endpoint.
    """
    failed = {key: value for key, value in results.items() if isinstance(value, EndpointError)}
    if not failed or len(failed) < len(results):
        return failed
    reasons = "; ".join(sorted({str(error) for error in failed.values()}))
    if all(error.malformed for error in failed.values()):
        raise MalformedResponse(f"every endpoint answered nonsense ({reasons})")
    raise SourceUnavailable(f"every endpoint failed ({reasons})")


def endpoint_error_event(runtime: Runtime, error: EndpointError, *, role: str = "monitor") -> Event:
    """The ERROR event for one endpoint that answered badly: ``MALFORMED_RESPONSE`` (counted as ``malformed``) or
    ``ENDPOINT_ERROR`` (``endpoint_errors``), logged; ``details`` name the component (as ``role``), the endpoint and
    the reason."""
    runtime.stats.count("malformed" if error.malformed else "endpoint_errors")
    runtime.log.warning("%s: endpoint %s failed: %s", runtime.instance, error.endpoint, error.reason)
    return Event(
        type="MALFORMED_RESPONSE" if error.malformed else "ENDPOINT_ERROR",
        message=f"{runtime.instance}: {error}",
        source=runtime.instance,
        level="ERROR",
        details={role: runtime.instance, "endpoint": error.endpoint, "error": error.reason},
    )


async def gather_endpoints(
    jobs: Mapping[K, Callable[[], Awaitable[Any]]], limiter: trio.CapacityLimiter | None = None
) -> dict[K, Any]:
    """Run ``jobs`` concurrently (at most ``limiter.total_tokens`` at a time); return each result, or the
    :class:`EndpointError` it raised.

    A :class:`SourceUnavailable` from any job is re-raised once, unwrapped, after all jobs ended (so the core sees
    one clear error rather than an exception group).
    """
    results: dict[K, Any] = {}
    async with trio.open_nursery() as nursery:

        async def run(key: K, job: Callable[[], Awaitable[Any]]) -> None:
            try:
                if limiter is None:
                    results[key] = await job()
                else:
                    async with limiter:
                        results[key] = await job()
            except EndpointError as exc:
                results[key] = exc
            except SourceUnavailable as exc:  # the source is gone: the other requests are pointless
                results[key] = exc
                nursery.cancel_scope.cancel()

        for key, job in jobs.items():
            nursery.start_soon(run, key, job)
    for value in results.values():
        if isinstance(value, SourceUnavailable):
            raise value
    return results


class SeenIds:
    """A bounded set of ids in arrival order: the oldest are forgotten once ``capacity`` is reached.

    The capacity only has to exceed what a source can serve again at once (the policy engine keeps 1000
    decisions and 500 events), so a cursor reset or an overlapping time window never stores anything twice.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add_all(self, keys: Iterable[Hashable]) -> None:
        """Remember ``keys``, forgetting the oldest beyond the capacity."""
        for key in keys:
            self._ids[key] = None
            self._ids.move_to_end(key)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
