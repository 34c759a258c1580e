"""Authentication (bearer and Basic; ``/health`` open; WebSockets too) and CORS."""

from __future__ import annotations

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url


async def test_auth_accepts_bearer_and_basic_and_leaves_health_open(start_server) -> None:
    agent = await start_server('auth_enabled = true\ntoken = "s3cret"\nusername = "alice"\npassword = "wonder"\n')
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            anonymous = await client.get("/api/v1/events")
            bearer = await client.get("/api/v1/events", headers={"Authorization": "Bearer s3cret"})
            wrong = await client.get("/api/v1/events", headers={"Authorization": "Bearer nope"})
            basic = await client.get("/api/v1/events", auth=("alice", "wonder"))
            bad_basic = await client.get("/api/v1/events", auth=("alice", "guess"))
            garbage = await client.get("/api/v1/events", headers={"Authorization": "Basic !!!"})
            health = await client.get("/health")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["status"] == 401
    assert "Bearer" in anonymous.headers["www-authenticate"] and "Basic" in anonymous.headers["www-authenticate"]
    assert bearer.status_code == 200 and basic.status_code == 200
    assert wrong.status_code == bad_basic.status_code == garbage.status_code == 401
    assert health.status_code == 200
    agent.stop()


async def test_no_default_credentials_ever_grant_access(start_server) -> None:
    """Issue 13: with only a token set, the built-in Basic login admin:securepassword still got in."""
    agent = await start_server('auth_enabled = true\ntoken = "s3cret"\n')
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            upstream_default = await client.get("/api/v1/events", auth=("admin", "securepassword"))
            empty = await client.get("/api/v1/events", auth=("", ""))
    assert upstream_default.status_code == empty.status_code == 401
    agent.stop()


async def test_websocket_needs_auth_too(start_server) -> None:
    agent = await start_server('token = "s3cret"\n')
    ws = agent.find("listener", "server").url.replace("http", "ws", 1) + "/ws/metrics"
    with trio.fail_after(10):
        with pytest.raises(ConnectionRejected):
            async with open_websocket_url(ws):
                pass
        async with open_websocket_url(ws + "?token=s3cret") as connection:
            welcome = await connection.get_message()
    assert '"welcome"' in welcome
    agent.stop()


async def test_no_auth_by_default(running) -> None:
    with trio.fail_after(10):
        response = await running.client.get("/api/v1/events")
    assert response.status_code == 200


async def test_cors_allows_only_configured_origins(start_server, running) -> None:
    agent = await start_server('cors_origins = ["http://dash.local"]\n')
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            allowed = await client.get("/api/v1/events", headers={"Origin": "http://dash.local"})
            other = await client.get("/api/v1/events", headers={"Origin": "http://evil.local"})
            preflight = await client.options(
                "/api/v1/events", headers={"Origin": "http://dash.local", "Access-Control-Request-Method": "GET"}
            )
        default = await running.client.get("/api/v1/events", headers={"Origin": "http://dash.local"})
    assert allowed.headers["access-control-allow-origin"] == "http://dash.local"
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 200
    assert "access-control-allow-origin" not in default.headers
    agent.stop()
