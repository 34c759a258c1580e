"""An emulated FLOPY-NET experiment watched by an agent, for the contract tests: the FL server (several rounds), the
policy engine and the SDN controller emulators on loopback, the real ``fl``, ``policy`` and ``sdn`` monitors, the
``sqlite`` store and ``cache``, and the real server with the dashboard's Basic auth on.

:func:`record_answers` runs it in its own ``trio.run`` and returns every dashboard call's answer, once before any
data and once after a training run, so the per-route contract tests only read what was recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import trio
from dashboard_reads import CALLS, DASHBOARD_AUTH
from flcollector.agent import Agent
from flcollector.config import load_config
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.emulators.policy_engine import PolicyEngineEmulator
from flcollector.emulators.sdn_controller import SdnControllerEmulator
from flcollector.loader import load_registry

ROUNDS = 4
Answers = dict[str, tuple[int, Any]]

CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"

[[sinks.sqlite]]
flush_interval = "5ms"
[[sinks.cache]]
flush_interval = "5ms"

[server]
port = 0
auth_enabled = true
# the dashboard's fixed Basic login, configured as a deployment for it does (no login is built in)
username = "admin"
password = "securepassword"
"""
MONITOR = '\n[[monitors.{name}]]\nurl = "{url}"\ninterval = "50ms"\ntimeout = "5s"\n'


async def answer_all(client: httpx.AsyncClient) -> Answers:
    """Every dashboard call's ``(status, JSON body)`` (``None`` for a HEAD)."""
    answers: Answers = {}
    for call in CALLS:
        response = await client.request(call.method, call.path, params=dict(call.params))
        answers[call.name] = (response.status_code, response.json() if call.method == "GET" else None)
    return answers


async def _ready(client: httpx.AsyncClient, decisions: int) -> bool:
    """Everything the dashboard shows has been collected: every round, every decision, flows and performance."""
    rounds = (await client.get("/api/metrics/fl/rounds", params={"limit": 1, "sort_order": "desc"})).json()
    status = (await client.get("/api/metrics/fl/status")).json()
    found = (await client.get("/api/policy/decisions", params={"limit": 1000})).json()
    flows = (await client.get("/api/network/flows")).json()
    performance = (await client.get("/api/performance/metrics")).json()
    return (
        rounds["latest_round"] == ROUNDS
        and status["training_complete"]
        and len(found) == decisions
        and bool(flows["flows"])
        and performance["source"] != "no_data"
    )


def _agent(tmp: Path, monitors: str) -> Agent:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "collector.toml"
    path.write_text(CONFIG.format(data=tmp / "data") + monitors)
    return Agent(load_config(path, env={}, registry=load_registry()))


async def record_answers(tmp: Path) -> dict[str, Answers]:
    """``{"empty": answers before any data, "data": answers after a training run of ROUNDS rounds}``."""
    recorded: dict[str, Answers] = {}
    fl = FlServerEmulator(num_clients=3, max_rounds=ROUNDS, seed=8)
    policy = PolicyEngineEmulator()
    sdn = SdnControllerEmulator(switches=3, hosts_per_switch=2)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for emulator in (fl, policy, sdn):
                await nursery.start(emulator.serve)
            for phase, monitors in (
                ("empty", ""),
                ("data", "".join(MONITOR.format(name=n, url=e.url) for n, e in (("fl", fl), ("policy", policy),
                                                                                ("sdn", sdn)))),
            ):
                if monitors:
                    for _ in range(ROUNDS):
                        await fl.step()
                    await policy.step()
                    await sdn.step()
                async with trio.open_nursery() as running:  # left once the agent has stopped and flushed
                    agent: Agent = await running.start(_agent(tmp / phase, monitors).run)
                    server = agent.find("listener", "server")
                    async with httpx.AsyncClient(base_url=server.url, auth=DASHBOARD_AUTH, timeout=10) as client:
                        # The monitors poll every 50 ms; only the answers tell when all is collected.
                        while monitors and not await _ready(client, len(policy.decisions)):  # noqa: ASYNC110
                            await trio.sleep(0.05)
                        recorded[phase] = await answer_all(client)
                    agent.stop()
            nursery.cancel_scope.cancel()  # the emulators
    return recorded
