"""The GNS3 emulator reproduces the server's link rules, both API versions, the notification stream and auto_close."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import trio
import trio.testing
from flcollector.emulators._gns3_model import Project, clean_filters
from flcollector.emulators.gns3 import Gns3Emulator, flopynet_project, put_link
from trio_websocket import ConnectionRejected, open_websocket_url


@pytest.fixture
async def gns3(nursery: trio.Nursery) -> Gns3Emulator:
    emulator = Gns3Emulator(auto_close_delay=0.05)
    await nursery.start(emulator.serve)
    return emulator


@pytest.fixture
async def client(gns3: Gns3Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gns3.url or "") as http:
        yield http


def ws_url(gns3: Gns3Emulator, api: str = "v2", query: str = "") -> str:
    base = (gns3.url or "").replace("http", "ws", 1)
    return f"{base}/{api}/projects/{gns3.project.project_id}/notifications/ws{query}"


def test_update_filters_rules() -> None:
    """``Link.update_filters``: numbers become int, strings are stripped, a 0 or "" first value drops the filter."""
    cleaned = clean_filters(
        {"delay": [80.7, 5], "packet_loss": [0], "corrupt": [], "frequency_drop": [-1], "bpf": [" icmp\n"], "x": [""]}
    )
    assert cleaned == {"delay": [80, 5], "frequency_drop": [-1], "bpf": ["icmp"]}
    assert clean_filters({"delay": [0, 10]}) == {}  # pure jitter disappears
    with pytest.raises(TypeError):
        clean_filters({"delay": 80})


async def test_v2_shapes(gns3: Gns3Emulator, client: httpx.AsyncClient) -> None:
    pid = gns3.project.project_id
    with trio.fail_after(10):
        version = (await client.get("/v2/version")).json()
        projects = (await client.get("/v2/projects")).json()
        links = (await client.get(f"/v2/projects/{pid}/links")).json()
        nodes = (await client.get(f"/v2/projects/{pid}/nodes")).json()
    assert version == {"version": "2.2.54", "local": True}
    assert [(p["name"], p["status"], p["auto_close"]) for p in projects] == [
        ("basic_federated_learning", "opened", True)
    ]
    assert len(links) == 10 and len(nodes) == 10
    assert set(links[0]) == {"nodes", "link_id", "project_id", "capturing", "capture_file_name", "capture_file_path",
                             "capture_compute_id", "link_type", "filters", "suspend", "link_style"}
    assert {"node_id", "adapter_number", "port_number", "label"} == set(links[0]["nodes"][0])
    ovs = next(n for n in nodes if n["name"] == "openvswitch")
    assert ovs["node_type"] == "docker" and ovs["status"] == "started" and ovs["ports"][1]["name"] == "eth1"


async def test_v2_put_cleans_filters_keeps_them_while_suspended_and_announces_changes(
    gns3: Gns3Emulator, client: httpx.AsyncClient
) -> None:
    uplink = gns3.link_between("fl-server", "openvswitch")
    path = f"/v2/projects/{gns3.project.project_id}/links/{uplink.link_id}"
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(gns3)) as ws:
            first = json.loads(await ws.get_message())
            wanted = {"delay": [80, 0], "packet_loss": [2.9], "corrupt": [0]}
            degraded = await client.put(path, json={"filters": wanted})
            update = json.loads(await ws.get_message())
            same = await client.put(path, json={"filters": {"delay": [80, 0], "packet_loss": [2]}})  # no change
            suspended = await client.put(path, json={"suspend": True})
            update_suspend = json.loads(await ws.get_message())
    assert first["action"] == "ping" and set(first["event"]) == {"cpu_usage_percent", "memory_usage_percent"}
    assert degraded.status_code == 201 and degraded.json()["filters"] == {"delay": [80, 0], "packet_loss": [2]}
    assert update == {"action": "link.updated", "event": degraded.json()}  # no timestamp anywhere
    assert same.status_code == 201
    assert suspended.json()["suspend"] is True and suspended.json()["filters"] == {"delay": [80, 0], "packet_loss": [2]}
    assert update_suspend["event"]["suspend"] is True
    assert uplink.active_filters() == {"frequency_drop": [-1]}
    assert gns3.notifications_sent == 2


async def test_v2_errors(gns3: Gns3Emulator, client: httpx.AsyncClient) -> None:
    pid = gns3.project.project_id
    link = f"/v2/projects/{pid}/links/{gns3.link_between('fl-server', 'openvswitch').link_id}"
    with trio.fail_after(10):
        unknown_project = await client.get("/v2/projects/nope/links")
        unknown_link = await client.put(f"/v2/projects/{pid}/links/nope", json={})
        extra_key = await client.put(link, json={"filters": {}, "bandwidth": 10})
        bad_json = await client.put(link, content=b"{not json")
        bad_suspend = await client.put(link, json={"suspend": "yes"})
        uncaught = await client.put(link, json={"filters": {"delay": [None]}})
    assert unknown_project.status_code == 404
    assert unknown_project.json() == {"message": "Project ID nope doesn't exist", "status": 404}
    assert unknown_link.json() == {"message": "Link ID nope doesn't exist", "status": 404}
    assert extra_key.status_code == 400 and "'bandwidth' was unexpected" in extra_key.json()["message"]
    assert extra_key.json()["method"] == "PUT" and extra_key.json()["path"] == link
    assert bad_json.status_code == 400 and bad_json.json()["message"].startswith("Invalid JSON")
    assert bad_suspend.status_code == 400 and "is not of type 'boolean'" in bad_suspend.json()["message"]
    assert uncaught.status_code == 500 and uncaught.json()["status"] == 500


async def test_v3_wants_a_bearer_token(gns3: Gns3Emulator, client: httpx.AsyncClient) -> None:
    pid = gns3.project.project_id
    link = f"/v3/projects/{pid}/links/{gns3.link_between('fl-server', 'openvswitch').link_id}"
    with trio.fail_after(10):
        version = await client.get("/v3/version")
        anonymous = await client.get(f"/v3/projects/{pid}/links")
        refused = await client.post("/v3/access/users/authenticate", json={"username": "admin", "password": "x"})
        token = (await client.post("/v3/access/users/authenticate", json={"username": "admin", "password": "admin"}))
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        links = await client.get(f"/v3/projects/{pid}/links", headers=headers)
        updated = await client.put(link, json={"suspend": "true", "extra": 1}, headers=headers)
        wrong_type = await client.put(link, json={"filters": [1]}, headers=headers)
        not_uuid = await client.get("/v3/projects/nope", headers=headers)
        form = await client.post("/v3/access/users/login", data={"username": "admin", "password": "admin"})
        gns3.expire_tokens()
        expired = await client.get(f"/v3/projects/{pid}", headers=headers)
    assert version.status_code == 200 and version.json()["version"] == "3.0.5"
    assert anonymous.status_code == 401 and anonymous.json() == {"message": "Not authenticated"}
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert refused.status_code == 401 and token.json()["token_type"] == "bearer"
    assert links.status_code == 200 and len(links.json()) == 10
    assert updated.status_code == 200 and updated.json()["suspend"] is True  # pydantic's lax bool, extras ignored
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"][0]["loc"] == ["body", "filters"]
    assert not_uuid.status_code == 422
    assert form.status_code == 200 and form.json()["access_token"]
    assert expired.status_code == 401 and expired.json() == {"message": "Could not validate credentials"}


async def test_v3_stream_needs_a_token(gns3: Gns3Emulator, client: httpx.AsyncClient) -> None:
    with trio.fail_after(10):
        with pytest.raises(ConnectionRejected):
            async with open_websocket_url(ws_url(gns3, "v3")):
                pass
        async with open_websocket_url(ws_url(gns3, "v3", "?token=forged")) as ws:
            refused = json.loads(await ws.get_message())
        token = gns3.issue_token()
        async with open_websocket_url(ws_url(gns3, "v3", f"?token={token}")) as ws:
            first = json.loads(await ws.get_message())
    assert refused["action"] == "log.error" and "Could not validate credentials" in refused["event"]["message"]
    assert first["action"] == "ping"


async def test_v2_basic_auth_when_enabled(nursery: trio.Nursery) -> None:
    emulator = Gns3Emulator(v2_auth=True, username="gns3", password="secret")
    url = await nursery.start(emulator.serve)
    async with httpx.AsyncClient(base_url=url) as client:
        with trio.fail_after(10):
            anonymous = await client.get("/v2/projects")
            allowed = await client.get("/v2/projects", auth=("gns3", "secret"))
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic")
    assert allowed.status_code == 200


async def test_auto_close_after_the_last_listener_leaves(gns3: Gns3Emulator, client: httpx.AsyncClient) -> None:
    pid = gns3.project.project_id
    uplink = gns3.link_between("fl-server", "openvswitch")
    with trio.fail_after(10):
        await put_link(gns3.url or "", pid, uplink.link_id, {"filters": {"delay": [80, 0]}, "suspend": True})
        async with open_websocket_url(ws_url(gns3)) as ws:
            await ws.get_message()
        await gns3.closed.wait()
        project = (await client.get(f"/v2/projects/{pid}")).json()
        links = (await client.get(f"/v2/projects/{pid}/links")).json()
        nodes = (await client.get(f"/v2/projects/{pid}/nodes")).json()
        closed_link = await client.get(f"/v2/projects/{pid}/links/{uplink.link_id}")
        reopened = await client.post(f"/v2/projects/{pid}/open")
    assert gns3.auto_closed == 1 and project["status"] == "closed"
    saved = next(link for link in links if link["link_id"] == uplink.link_id)
    assert set(saved) == {"nodes", "link_id", "filters", "link_style", "suspend"}  # the topology file's form
    assert saved["filters"] == {"delay": [80, 0]} and saved["suspend"] is True
    assert all("status" not in node for node in nodes)
    assert all(node.status == "stopped" for node in gns3.project.nodes.values())
    assert closed_link.status_code == 403 and closed_link.json()["message"] == "The project is not opened"
    assert reopened.status_code == 201 and uplink.suspend is False and uplink.filters == {"delay": [80, 0]}


async def test_auto_close_only_without_listeners_and_only_when_set(autojump_clock: trio.testing.MockClock) -> None:
    """``after_listener_left`` waits the delay, then closes only a project with auto_close and nobody listening."""
    emulator = Gns3Emulator(auto_close_delay=5.0)
    kept, other = emulator.project, flopynet_project(name="other")
    other.auto_close = False
    with emulator.listening(kept):
        await emulator.after_listener_left(kept)  # someone else still listens
        await emulator.after_listener_left(other)
    assert kept.status == other.status == "opened" and emulator.auto_closed == 0
    clock_before = trio.current_time()
    await emulator.after_listener_left(kept)
    assert kept.status == "closed" and trio.current_time() - clock_before >= 5.0


async def test_script_degrades_then_restores_the_fl_uplink_through_put(gns3: Gns3Emulator) -> None:
    uplink = gns3.link_between("fl-server", "openvswitch")
    seen = []
    with trio.fail_after(10):
        for _ in range(6):
            await gns3.step()
            seen.append(dict(uplink.filters))
    assert seen == [{}, {}, {"delay": [80, 0], "packet_loss": [2]}, {"delay": [80, 0], "packet_loss": [2]},
                    {"delay": [80, 0], "packet_loss": [2]}, {}]


def test_filters_run_on_the_first_endpoint_that_can_filter() -> None:
    project: Project = flopynet_project()
    nodes = project.nodes
    names = {link.link_id: [nodes[end[0]].name for end in link.ends] for link in project.links.values()}
    runs_on = {tuple(names[link_id]): link.filter_node(nodes) for link_id, link in project.links.items()}
    assert nodes[runs_on[("fl-server", "openvswitch")] or ""].name == "fl-server"
    assert nodes[runs_on[("switch1", "openvswitch")] or ""].name == "openvswitch"
