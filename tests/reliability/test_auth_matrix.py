"""The auth matrix: every credential configuration against every credential a client may send.

Issue 13, item 9: with only ``API_TOKEN`` set, the built-in default Basic login ``admin:securepassword`` still got in.
No default credential may ever grant access: Basic works only with both a username and a password configured, and
authentication turned on without any credential (or with half of one) refuses to start (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio
from flcollector.agent import Agent
from flcollector.cli import main
from flcollector.config import load_config
from trio_websocket import ConnectionRejected, open_websocket_url

UPSTREAM_DEFAULT = ("admin", "securepassword")  # what FLOPY-NET's dashboard always sends
CONFIGS = {
    "off": "",
    "token": 'token = "t0k"\n',
    "basic": 'auth_enabled = true\nusername = "alice"\npassword = "s3cret"\n',
    "dashboard": 'auth_enabled = true\nusername = "admin"\npassword = "securepassword"\n',  # the documented opt-in
    "both": 'auth_enabled = true\ntoken = "t0k"\nusername = "alice"\npassword = "s3cret"\n',
}
CLIENTS: dict[str, dict[str, object]] = {
    "anonymous": {},
    "bearer": {"headers": {"Authorization": "Bearer t0k"}},
    "wrong bearer": {"headers": {"Authorization": "Bearer nope"}},
    "query token": {"params": {"token": "t0k"}},  # only WebSockets may use it (browsers cannot set headers there)
    "basic alice": {"auth": ("alice", "s3cret")},
    "upstream default": {"auth": UPSTREAM_DEFAULT},
    "empty basic": {"auth": ("", "")},
    "basic with the token": {"auth": ("admin", "t0k")},
}
#: Which client gets in under which configuration; every other pair is a 401.
ALLOWED = {
    "off": set(CLIENTS),
    "token": {"bearer"},
    "basic": {"basic alice"},
    "dashboard": {"upstream default"},
    "both": {"bearer", "basic alice"},
}


async def _agent(nursery: trio.Nursery, folder: Path, server: str) -> Agent:
    folder.mkdir()  # noqa: ASYNC240 - set-up, before anything runs
    path = folder / "collector.toml"
    path.write_text(f'[agent]\ndata_dir = "{folder / "data"}"\n[[sinks.cache]]\n[[sinks.websocket]]\n'
                    f"[server]\nport = 0\n{server}")
    agent: Agent = await nursery.start(Agent(load_config(path, env={})).run)
    return agent


@pytest.mark.parametrize("config", list(CONFIGS))
async def test_who_gets_in(config: str, nursery: trio.Nursery, tmp_path: Path) -> None:
    agent = await _agent(nursery, tmp_path / config, CONFIGS[config])
    url = agent.find("listener", "server").url
    answers: dict[str, int] = {}
    with trio.fail_after(20):
        async with httpx.AsyncClient(base_url=url) as http:
            for client, options in CLIENTS.items():
                answers[client] = (await http.get("/openapi.json", **options)).status_code  # type: ignore[arg-type]
            health = await http.get("/health")
        ws = url.replace("http", "ws", 1) + "/ws/metrics"
        try:
            async with open_websocket_url(ws + "?token=t0k"):
                websocket_with_token = True
        except ConnectionRejected:
            websocket_with_token = False
    expected = {client: 200 if client in ALLOWED[config] else 401 for client in CLIENTS}
    assert answers == expected
    assert health.status_code == 200  # open: what a load balancer needs
    assert websocket_with_token == (config in ("off", "token", "both"))
    agent.stop()


@pytest.mark.parametrize(
    ("server", "env", "words"),
    [
        ("auth_enabled = true\n", {}, "'auth_enabled' is true but no credential is configured"),
        ("", {"API_AUTH_ENABLED": "true"}, "no credential is configured"),
        ("auth_enabled = true\n", {"API_USERNAME": "admin"}, "'username' is set without 'password'"),
        ('password = "x"\n', {}, "'password' is set without 'username'"),
        ("auth_enabled = true\n", {"API_USERNAME": "", "API_PASSWORD": ""}, "must not be empty"),
    ],
)
def test_auth_without_a_credential_refuses_to_start(
    server: str, env: dict[str, str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("API_AUTH_ENABLED", "API_USERNAME", "API_PASSWORD", "API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "c.toml"
    config.write_text(f'[agent]\ndata_dir = "{tmp_path / "d"}"\n[server]\nport = 0\n{server}')
    assert main(["run", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert "config error" in err and "[server]" in err and words in err and "Traceback" not in err
