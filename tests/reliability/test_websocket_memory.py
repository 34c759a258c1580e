"""A WebSocket client that never reads cannot grow the agent's memory: it is closed with a reason and counted, and
the memory comes back once it is gone.

Issue 13: a never-reading client grew memory without limit through control replies (pong, error, backfill), which
were never trimmed, and RSS stayed high after it left. The client here is a raw socket with a tiny receive buffer:
it upgrades, subscribes with a backfill, then floods pings and bad messages (each one earns a reply) without ever
reading a byte; the agent (its own process) is measured by its RSS.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import trio
from agent_process import AgentProcess

CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"
[[sinks.sqlite]]
[[sinks.websocket]]
send_timeout = "1s"
[server]
port = 0
stall_timeout = "2s"
"""
FLOOD_MESSAGES = 200_000  # pings and malformed messages: 200,000 replies if every one were kept
RSS_GROWTH_LIMIT_MIB = 40  # what the flood may cost at most while it lasts (a few MiB in practice)


def _frame(text: bytes) -> bytes:
    """One masked client text frame (RFC 6455 §5.2)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
    length = len(text)
    header = struct.pack("!BB", 0x81, 0x80 | length) if length < 126 else struct.pack("!BBH", 0x81, 0x80 | 126, length)
    return header + mask + masked


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def _flood(url: str) -> int:
    """Upgrade, subscribe with backfill, then send the flood without reading; return how many frames went out."""
    parts = urlsplit(url)
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # takes almost nothing: the server's sends stall
    await sock.connect((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    await sock.send(
        f"GET /ws/metrics HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    handshake = b""
    while b"\r\n\r\n" not in handshake:  # the 101 answer: the last bytes this client ever reads
        handshake += await sock.recv(1)
    assert handshake.startswith(b"HTTP/1.1 101"), handshake
    await sock.send(_frame(b'{"action": "subscribe", "streams": ["all"], "backfill": 1000}'))
    ping, bad = _frame(b'{"action": "ping"}'), _frame(b'{"action": "dance"}')
    sent = 0
    try:
        while sent < FLOOD_MESSAGES:
            await sock.send((ping + bad) * 50)  # never read: the replies pile up on the agent's side, or not
            sent += 100
    except OSError:
        pass  # the agent dropped the connection: what it should do with a client that does not read
    finally:
        sock.close()
    return sent


async def test_a_never_reading_client_is_closed_counted_and_costs_bounded_memory(tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path, CONFIG.format(data=tmp_path / "data"))
    try:
        with trio.fail_after(120):
            url = await agent.start()
            assert agent.process is not None
            pid = agent.process.pid
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                lines = "".join(f"fill,host=h{i % 9} v={i}i\n" for i in range(5000))  # something to backfill
                assert (await http.post("/write", content=lines)).status_code == 204
                before = _rss_mib(pid)
                peak = before
                async with trio.open_nursery() as nursery:
                    done = trio.Event()

                    async def flood() -> None:
                        await _flood(url)
                        done.set()

                    nursery.start_soon(flood)
                    while not done.is_set():  # samples another process's memory while the flood lasts
                        peak = max(peak, _rss_mib(pid))
                        await trio.sleep(0.05)
                ws = (await http.get("/health")).json()["agent_components"]["sink:websocket"]
                while ws["ws_clients"]:  # until the agent let the client go
                    await trio.sleep(0.1)
                    ws = (await http.get("/health")).json()["agent_components"]["sink:websocket"]
                after = _rss_mib(pid)
    finally:
        with trio.CancelScope(shield=True):
            await agent.kill_now()
    assert ws["counters"]["ws_slow_closed"] == 1, ws
    assert peak - before < RSS_GROWTH_LIMIT_MIB, (before, peak, after)
    assert after - before < RSS_GROWTH_LIMIT_MIB / 2, (before, peak, after)
