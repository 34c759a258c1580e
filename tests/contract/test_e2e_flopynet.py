"""End to end: ``flcollector run`` (a real process) watches the emulated FL server, policy engine, SDN controller and
GNS3 server through a training run of several rounds, while FL clients push their own metrics; then every read the
FLOPY-NET dashboard makes holds on its routes, the spec's routes answer with numbers wherever there is data, and a
WebSocket subscriber got the spec's messages. Every wait is on an answer of the agent (polled), never a fixed sleep.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from dashboard_reads import CALLS, DASHBOARD_AUTH, violations
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.emulators.gns3 import Gns3Emulator
from flcollector.emulators.policy_engine import PolicyEngineEmulator
from flcollector.emulators.sdn_controller import SdnControllerEmulator
from trio_websocket import ConnectionClosed, open_websocket_url

ROUNDS = 5
CLIENTS = ("client-1", "client-2", "client-3")
TOKEN = "e2e-token"
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
#: Figures no monitor measures (documented as null): everything else in the spec's answers is a number with data.
UNMEASURED = {"flow_table_utilization", "priority_violations"}

CONFIG = """
[agent]
data_dir = "{data}"
interval = "100ms"
self_metrics_interval = "1s"

[[monitors.fl]]
url = "{fl}"
[[monitors.policy]]
url = "{policy}"
[[monitors.sdn]]
url = "{sdn}"
[[monitors.gns3]]
url = "{gns3}"
project_name = "basic_federated_learning"

[[processors.anomaly]]
[[processors.convergence]]

[[sinks.sqlite]]
flush_interval = "20ms"
[[sinks.jsonl]]
flush_interval = "20ms"
[[sinks.cache]]
flush_interval = "20ms"
[[sinks.websocket]]

[server]
host = "127.0.0.1"
port = 0
auth_enabled = true
token = "{token}"
# the dashboard's fixed Basic login, configured as a deployment for it does (no login is built in)
username = "admin"
password = "securepassword"
"""


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Ask the agent again until ``check()`` holds (the caller's ``fail_after`` bounds it)."""
    while not await check():  # noqa: ASYNC110 (the agent is another process: its answers are the only signal)
        await trio.sleep(0.05)


def nulls(body: Any, where: str = "") -> list[str]:
    """Every path in ``body`` whose value is null, but for the figures nobody measures."""
    if isinstance(body, dict):
        return [p for key, value in body.items() if key not in UNMEASURED for p in nulls(value, f"{where}.{key}")]
    if isinstance(body, list):
        return [p for i, value in enumerate(body) for p in nulls(value, f"{where}[{i}]")]
    return [where] if body is None else []


async def agent_url(process: trio.Process, log: list[str]) -> str:
    """Read the agent's log until it says where it serves."""
    assert process.stderr is not None
    buffer = b""
    async for chunk in process.stderr:
        buffer += chunk
        *lines, rest = buffer.split(b"\n")
        buffer = rest
        for line in lines:
            log.append(line.decode(errors="replace"))
            if found := SERVING.search(log[-1]):
                return found.group(1)
    raise AssertionError("the agent exited before serving:\n" + "\n".join(log))


async def drain(process: trio.Process, log: list[str]) -> None:
    """Keep reading the agent's log (a full pipe would stall it)."""
    assert process.stderr is not None
    async for chunk in process.stderr:
        log.extend(chunk.decode(errors="replace").splitlines())


async def subscribe(url: str, messages: list[dict[str, Any]], task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """A WebSocket client of every stream, as the spec's client subscribes; keeps every message it gets."""
    ws_url = url.replace("http://", "ws://", 1) + f"/ws/metrics?token={TOKEN}"
    async with open_websocket_url(ws_url) as ws:
        await ws.send_message(json.dumps({"action": "subscribe", "streams": ["all"]}))
        while True:
            try:
                message = json.loads(await ws.get_message())
            except ConnectionClosed as closed:  # the agent's shutdown closes every socket with 1001
                assert closed.reason is not None and closed.reason.code == 1001, closed.reason
                return
            messages.append(message)
            if message["type"] == "subscribed":
                task_status.started()


def client_lines(round_: int) -> str:
    """The ``fl_client`` records each client pushes after a round (InfluxDB line protocol)."""
    return "\n".join(
        f"fl_client,client={c},round={round_} accuracy={0.5 + round_ / 20 + i / 100},loss={1.0 - round_ / 10},"
        f"training_time_s={10 + i},samples={500 + 100 * i}i"
        for i, c in enumerate(CLIENTS)
    )


@pytest.mark.slow
async def test_flcollector_run_against_flopynet_emulators(tmp_path: Path, nursery: trio.Nursery) -> None:
    # clients drop out often, so some rounds fall under the spec's 70 % participation (client_disconnect_spike)
    fl = FlServerEmulator(num_clients=len(CLIENTS), max_rounds=ROUNDS, seed=11, dropout_rate=0.5)
    policy, sdn, gns3 = PolicyEngineEmulator(), SdnControllerEmulator(switches=3, hosts_per_switch=2), Gns3Emulator()
    for emulator in (fl, policy, sdn, gns3):
        await nursery.start(emulator.serve)
    config = tmp_path / "e2e.toml"
    config.write_text(
        CONFIG.format(data=tmp_path / "data", fl=fl.url, policy=policy.url, sdn=sdn.url, gns3=gns3.url, token=TOKEN)
    )
    log: list[str] = []
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "flcollector", "run", "-c", str(config)], stderr=subprocess.PIPE
    )
    messages: list[dict[str, Any]] = []
    try:
        with trio.fail_after(90):
            url = await agent_url(process, log)
            nursery.start_soon(drain, process, log)
            await nursery.start(subscribe, url, messages)
            async with (
                httpx.AsyncClient(base_url=url, auth=DASHBOARD_AUTH, timeout=10) as dashboard,
                httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as api,
            ):
                await train(fl, policy, sdn, gns3, dashboard, api)
                await check_dashboard(dashboard)
                disconnects = await check_spec(api)

                async def all_streamed() -> bool:
                    rounds = sum(1 for m in messages if m["type"] == "fl_round_update")
                    return rounds >= ROUNDS and len(_alerts(messages, "client_disconnect_spike")) >= disconnects

                await until(all_streamed)
                await check_backfill(url, messages)
            check_websocket(messages, disconnects)
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0, "\n".join(log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert any("0 records dropped in total" in line for line in log), "\n".join(log[-20:])


async def train(
    fl: Any, policy: Any, sdn: Any, gns3: Any, dashboard: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """Play the rounds one by one, each client pushing its metrics; wait until the agent stored each round.

    Training starts once the agent has seen the FL server and named the experiment (as on FLOPY-NET, where the
    server is up long before its first round ends): records pushed before that carry no experiment.
    """

    async def experiment_named() -> bool:
        return bool((await api.get("/api/v1/status")).json()["experiment_id"])

    await until(experiment_named)
    for n in range(1, ROUNDS + 1):
        await fl.step()
        await policy.step()
        await sdn.step()
        await gns3.step()
        written = await api.post("/write", content=client_lines(n))
        assert written.status_code == 204, written.text

        async def stored(n: int = n) -> bool:
            latest = (await dashboard.get("/api/metrics/fl/rounds", params={"limit": 1, "sort_order": "desc"})).json()
            return bool(latest["latest_round"] == n)

        await until(stored)

    seen: dict[str, Any] = {}

    async def everything() -> bool:
        seen["complete"] = (await dashboard.get("/api/metrics/fl/status")).json()["training_complete"]
        clients = (await api.get("/api/v1/fl/metrics")).json()["client_metrics"]
        seen["rounds_per_client"] = {c: clients.get(c, {}).get("rounds_participated") for c in CLIENTS}
        network = (await api.get("/api/v1/network/metrics")).json()
        seen["traffic"], seen["performance"] = network["traffic_analysis"], network["performance"]
        health = (await api.get("/health")).json()["components"]
        seen["health"] = {s: health[s] for s in ("fl_server", "policy_engine", "sdn_controller")}
        return (
            seen["complete"]
            and set(seen["rounds_per_client"].values()) == {ROUNDS}
            and seen["traffic"]["fl_traffic_percentage"] is not None
            and seen["performance"]["peak_bandwidth_mbps"] is not None
            and all(part["status"] == "healthy" for part in seen["health"].values())
        )

    with trio.move_on_after(30) as waiting:
        await until(everything)
    assert not waiting.cancelled_caught, f"the agent never showed the whole run: {seen}"


async def check_dashboard(dashboard: httpx.AsyncClient) -> None:
    """Every call the dashboard backend makes, and every read it makes of the answer (``dashboard_reads``)."""
    problems: list[str] = []
    for call in CALLS:
        response = await dashboard.request(call.method, call.path, params=dict(call.params))
        assert response.status_code == 200, (call.path, response.text)
        if call.method == "GET":
            problems += violations(call, response.json(), with_data=True)
    assert not problems, "\n".join(problems)


async def check_spec(api: httpx.AsyncClient) -> int:
    """The spec's routes: its shapes, with a number wherever the agent has data. Returns how many client-disconnect
    episodes the stored rounds hold (rounds under 70 % participation after one at or above it)."""
    health = (await api.get("/health")).json()
    assert isinstance(health["timestamp"], float) and health["version"] and "error" not in health
    assert {"fl_server", "policy_engine", "sdn_controller", "gns3"} <= set(health["components"])
    status = (await api.get("/api/v1/status")).json()
    assert not nulls(status), nulls(status)
    fl = (await api.get("/api/v1/fl/metrics")).json()
    assert fl["global_metrics"]["rounds"] == list(range(1, ROUNDS + 1))
    assert set(fl["client_metrics"]) == set(CLIENTS) and not nulls(fl), nulls(fl)
    assert fl["client_metrics"]["client-3"]["data_contribution"] == 700
    network = (await api.get("/api/v1/network/metrics")).json()
    assert not nulls(network), nulls(network)
    shares = network["traffic_analysis"]
    assert sum(shares.values()) == pytest.approx(100.0) and shares["fl_traffic_percentage"] > 0
    for path in ("/api/v1/metrics", "/api/v1/events", "/api/v1/metrics/names"):
        answer = await api.get(path)
        assert answer.status_code == 200 and answer.json(), path
    rounds = (await api.get("/api/v1/metrics", params={"name": "fl_round", "limit": 100, "order": "asc"})).json()
    assert [m["round"] for m in rounds["metrics"]] == list(range(1, ROUNDS + 1))
    low = [m["fields"]["clients_succeeded"] / m["fields"]["clients_selected"] < 0.7 for m in rounds["metrics"]]
    episodes = sum(1 for i, under in enumerate(low) if under and (i == 0 or not low[i - 1]))
    assert episodes >= 1, "the seed gave no round under 70 % participation"
    return episodes


async def check_backfill(url: str, live: list[dict[str, Any]]) -> None:
    """Issue 8 item 7: a late subscriber's backfill of ``network_performance`` holds every metric name the live
    stream carried (``net_``/``sdn_``/``network``...: one definition of the stream's names)."""
    ws_url = url.replace("http://", "ws://", 1) + f"/ws/metrics?token={TOKEN}"
    backfilled: list[dict[str, Any]] = []
    async with open_websocket_url(ws_url) as ws:
        await ws.send_message(json.dumps({"action": "subscribe", "streams": ["network_performance"], "backfill": 1000}))
        while True:  # stored records come first, marked; the first live message ends the backfill
            message = json.loads(await ws.get_message())
            if message.get("backfill"):
                backfilled.append(message)
            elif backfilled and message.get("stream") == "network_performance":
                break
    assert {m["stream"] for m in backfilled} == {"network_performance"}
    names = {m["data"]["name"] for m in backfilled if m["data"]["kind"] == "metric"}
    streamed = {m["data"]["name"] for m in live if m["type"] == "network_update"}
    assert streamed and streamed <= names, streamed - names


def _alerts(messages: list[dict[str, Any]], alert_type: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("alert", {}).get("alert_type") == alert_type]


def check_websocket(messages: list[dict[str, Any]], disconnects: int) -> None:
    """The spec's client reads ``data.metrics`` of ``fl_round_update``, ``data.alert`` of ``network_alert`` (and of
    every alert) and ``data.event`` of ``policy_event``."""
    updates = [m for m in messages if m["type"] == "fl_round_update"]
    assert sorted(m["metrics"]["round"] for m in updates) == list(range(1, ROUNDS + 1))
    assert all(isinstance(m["metrics"]["accuracy"], float) for m in updates)
    policy = [m for m in messages if m["type"] == "policy_event"]
    assert policy and all(m["event"]["type"] for m in policy)
    assert any(m["type"] == "network_update" for m in messages)
    network_alerts = [m for m in messages if m["type"] == "network_alert"]
    assert network_alerts, "the SDN emulator's scripted link failure is a network alert"
    for message in network_alerts:
        alert = message["alert"]
        assert alert["alert_type"] == alert["type"] and alert["severity"] in ("medium", "high", "critical")
        assert isinstance(alert["timestamp"], float) and alert["message"]
    disconnect = _alerts(messages, "client_disconnect_spike")
    assert len(disconnect) == disconnects  # one per episode
    for message in disconnect:
        alert = message["alert"]
        assert alert["severity"] == "medium" and alert["current_value"] < 0.7 and alert["threshold"] == 0.7
