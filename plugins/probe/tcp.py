"""TCP-connect probes: parse ``host:port`` targets, time connects, and summarise RTTs, loss and jitter.

A probe is one TCP handshake: the round-trip time is how long ``connect()`` takes (SYN out, SYN-ACK back), which
needs no privileges (unlike ICMP) and measures the path to a real service. Name resolution happens once per
cycle and is not part of the RTT.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from itertools import pairwise

import attrs
import trio

_TARGET = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+(?:%\w+)?)\]|(?P<host>[A-Za-z0-9._-]+)):(?P<port>\d{1,5})$")

#: Why a probe failed; counted per target in the ``failed_<reason>`` fields.
FAILURE_REASONS = ("refused", "timeout", "other")


def parse_target(text: object) -> tuple[str, int]:
    """Split ``"host:port"`` (IPv6 as ``"[::1]:443"``) into host and port; raise ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"expected a 'host:port' string, got {text!r}")
    match = _TARGET.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a valid target: expected 'host:port' (IPv6 as '[::1]:443')")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: port {port} is outside 1-65535")
    return match["v6"] or match["host"], port


@attrs.frozen
class ProbeResult:
    """One probe: its RTT in milliseconds, or the reason it failed."""

    rtt_ms: float | None
    failure: str | None = None


def summarize(results: Sequence[ProbeResult]) -> dict[str, float | int]:
    """Return the ``probe_tcp`` fields for the probes of one target, in the order they were sent.

    ``jitter_ms`` is the mean absolute difference of consecutive RTTs (RFC 3550's idea, unsmoothed); it needs two
    answered probes, and the RTT fields need one, so a fully lost target has only the counts and
    ``loss_percent`` = 100.
    """
    rtts = [r.rtt_ms for r in results if r.rtt_ms is not None]
    sent = len(results)
    fields: dict[str, float | int] = {
        "sent": sent,
        "received": len(rtts),
        "loss_percent": round(100.0 * (sent - len(rtts)) / sent, 3) if sent else 0.0,
    }
    for reason in FAILURE_REASONS:
        fields[f"failed_{reason}"] = sum(1 for r in results if r.failure == reason)
    if rtts:
        fields.update(
            rtt_min_ms=round(min(rtts), 3), rtt_avg_ms=round(sum(rtts) / len(rtts), 3), rtt_max_ms=round(max(rtts), 3)
        )
    if len(rtts) >= 2:
        diffs = [abs(b - a) for a, b in pairwise(rtts)]
        fields["jitter_ms"] = round(sum(diffs) / len(diffs), 3)
    return fields


async def connect_once(family: int, address: tuple, timeout: float) -> ProbeResult:
    """Time one TCP handshake to ``address``; never raises for network failures."""
    sock = trio.socket.socket(family, trio.socket.SOCK_STREAM)
    with sock:
        started = time.perf_counter()
        try:
            with trio.fail_after(timeout):
                await sock.connect(address)
        except trio.TooSlowError:
            return ProbeResult(None, "timeout")
        except ConnectionRefusedError:
            return ProbeResult(None, "refused")
        except OSError:  # unreachable network/host, reset...
            return ProbeResult(None, "other")
        return ProbeResult((time.perf_counter() - started) * 1000.0)


async def probe_target(host: str, port: int, count: int, timeout: float, spacing: float) -> list[ProbeResult]:
    """Send ``count`` probes to ``host:port``, one every ``spacing`` seconds, each with its own ``timeout``.

    Like ping, a probe does not wait for the previous one to finish, so a cycle lasts at most
    ``(count - 1) * spacing + timeout`` however many probes time out.
    """
    try:
        with trio.fail_after(timeout):
            infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
    except (OSError, trio.TooSlowError):  # unresolvable: every probe is lost
        return [ProbeResult(None, "other")] * count
    family, _, _, _, address = infos[0]
    results: list[ProbeResult] = [ProbeResult(None, "other")] * count

    async def run(index: int) -> None:
        results[index] = await connect_once(family, address, timeout)

    async with trio.open_nursery() as nursery:
        for index in range(count):
            if index:
                await trio.sleep(spacing)
            nursery.start_soon(run, index)
    return results
