"""The ``gns3`` monitor against the emulated GNS3 server: configured conditions, changes, project choice, faults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import trio
from conftest import Harness, start
from flcollector import MalformedResponse, SourceUnavailable
from flcollector.emulators._gns3_model import Node
from flcollector.emulators.gns3 import Gns3Emulator
from trio_websocket import open_websocket_url

UPLINK = "fl-server:eth0<->openvswitch:eth1"


async def test_first_poll_snapshot_links_and_project(harness: Harness) -> None:
    with trio.fail_after(10):
        first = await harness.collect()
        second = await harness.collect()
    links = harness.metrics("gns3_link", first)
    assert len(links) == 10 and len(harness.metrics("gns3_link", second)) == 10
    uplink = harness.uplink_metric(first)
    assert uplink.source == "gns3"
    link_id = harness.emulator.link_between("fl-server", "openvswitch").link_id
    assert uplink.tags == {
        "project": "basic_federated_learning", "link_id": link_id,
        "node_a": "fl-server", "port_a": "eth0", "node_b": "openvswitch", "port_b": "eth1", "link": UPLINK,
        "filter_node": "fl-server",
    }
    assert uplink.fields["latency_ms"] == 0.0 and uplink.fields["filters_applied"] is True
    [snapshot] = harness.events("GNS3_PROJECT_SNAPSHOT")  # only once: nothing structural changed
    assert snapshot.details["project"]["status"] == "opened" and snapshot.details["project"]["auto_close"] is True
    assert snapshot.details["server"] == {"api": "v2", "version": "2.2.54"}
    assert {link["link"] for link in snapshot.details["links"]} >= {UPLINK, "switch1:Ethernet0<->openvswitch:eth2"}
    assert len(snapshot.details["nodes"]) == 10
    project = harness.metrics("gns3_project", first)[0]
    assert project.fields == {"status": "opened", "auto_close": True, "api": "v2", "server_version": "2.2.54",
                              "links": 10, "links_configured": 0, "links_suspended": 0, "nodes": 10,
                              "nodes_started": 10}
    assert harness.events("LINK_CONFIG_CHANGED") == []


async def test_a_scenario_change_is_reported_once_within_one_poll(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.collect()
        await harness.put_uplink({"filters": {"delay": [80, 0], "packet_loss": [2]}})
        changed = await harness.collect()
        again = await harness.collect()
        await harness.put_uplink({"filters": {}})
        restored = await harness.collect()
    [event] = harness.events("LINK_CONFIG_CHANGED", changed)
    assert event.details["link"] == UPLINK and event.details["detected_by"] == "poll"
    assert event.details["changes"] == {"delay": {"before": None, "after": [80, 0]},
                                        "packet_loss": {"before": None, "after": [2]}}
    assert event.details["before"]["latency_ms"] == 0.0 and event.details["after"]["rtt_added_ms"] == 160.0
    assert harness.uplink_metric(changed).fields["latency_ms"] == 80.0
    assert harness.uplink_metric(changed).fields["loss_pct"] == 2.0
    assert harness.events("LINK_CONFIG_CHANGED", again) == []
    [back] = harness.events("LINK_CONFIG_CHANGED", restored)
    assert back.details["changes"]["delay"] == {"before": [80, 0], "after": None}
    assert len(harness.events("GNS3_PROJECT_SNAPSHOT")) == 1  # filters are not structure
    assert harness.metrics("gns3_project", changed)[0].fields["links_configured"] == 1


async def test_pure_jitter_is_dropped_by_the_server_so_nothing_changes(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.collect()
        await harness.put_uplink({"filters": {"delay": [0, 20]}})
        after = await harness.collect()
    assert harness.events("LINK_CONFIG_CHANGED", after) == []
    assert harness.uplink_metric(after).fields["jitter_ms"] == 0.0


async def test_suspension_keeps_the_filters_and_drops_everything(harness: Harness) -> None:
    with trio.fail_after(10):
        await harness.put_uplink({"filters": {"delay": [80, 0]}})
        await harness.collect()
        await harness.put_uplink({"suspend": True})
        after = await harness.collect()
    [event] = harness.events("LINK_CONFIG_CHANGED", after)
    assert event.details["changes"] == {"suspend": {"before": False, "after": True}}
    fields = harness.uplink_metric(after).fields
    assert fields["suspended"] is True and fields["latency_ms"] == 80.0 and fields["loss_roundtrip_pct"] == 100.0
    assert harness.metrics("gns3_project", after)[0].fields["links_suspended"] == 1


async def test_a_new_link_is_a_baseline_and_a_new_snapshot(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        await harness.collect()
        client = emulator.project.add_node(Node("fl-client-3", "docker"))
        emulator.project.connect(client, 0, emulator.node("openvswitch"), 9)
        after = await harness.collect()
    assert len(harness.metrics("gns3_link", after)) == 11 and harness.events("LINK_CONFIG_CHANGED") == []
    [snapshot] = harness.events("GNS3_PROJECT_SNAPSHOT", after)
    assert any(link["node_a"] == "fl-client-3" for link in snapshot.details["links"])


async def test_auto_closed_project_is_reported_and_still_read(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        await harness.put_uplink({"filters": {"delay": [80, 0]}})
        await harness.collect()
        url = (emulator.url or "").replace("http", "ws", 1)
        async with open_websocket_url(f"{url}/v2/projects/{emulator.project.project_id}/notifications/ws") as ws:
            await ws.get_message()  # some other client listened, then left
        await emulator.closed.wait()
        closed = await harness.collect()
        later = await harness.collect()
    [event] = harness.events("GNS3_PROJECT_CLOSED", closed)
    assert event.level == "ERROR" and event.details["detected_by"] == "poll"
    assert harness.events("GNS3_PROJECT_CLOSED", later) == []
    assert harness.uplink_metric(closed).fields["latency_ms"] == 80.0  # from the topology file
    project = harness.metrics("gns3_project", closed)[0].fields
    assert project["status"] == "closed" and project["nodes_started"] == 0
    assert harness.events("GNS3_PROJECT_SNAPSHOT", closed)[0].details["project"]["status"] == "closed"


@pytest.mark.parametrize("how", ["project_id", "project_name", "only_opened"])
async def test_project_by_id_by_name_or_the_only_opened_one(
    nursery: trio.Nursery, make_component: Callable[..., Any], how: str
) -> None:
    emulator = Gns3Emulator()
    other = Gns3Emulator().project
    other.name, other.status = "old", "closed"
    emulator.projects[other.project_id] = other
    options = {"project_id": emulator.project.project_id, "project_name": "basic_federated_learning"}
    harness = await start(nursery, make_component, emulator, **({how: options[how]} if how in options else {}))
    with trio.fail_after(10):
        await harness.collect()
    assert harness.monitor.api.project_id == emulator.project.project_id


async def test_no_such_project_or_too_many_is_unavailable(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    emulator = Gns3Emulator()
    second = Gns3Emulator().project
    emulator.projects[second.project_id] = second
    named = await start(nursery, make_component, emulator, project_name="nope")
    unnamed = make_component(type(named.monitor), {"url": emulator.url})
    by_id = make_component(type(named.monitor), {"url": emulator.url, "project_id": "0000"})
    with trio.fail_after(10):
        with pytest.raises(SourceUnavailable, match="no GNS3 project named 'nope'"):
            await named.collect()
        with pytest.raises(SourceUnavailable, match="2 opened GNS3 projects"):
            await unnamed.collect()
        with pytest.raises(SourceUnavailable, match="project 0000 not found"):
            await by_id.collect()
    for monitor in (named.monitor, unnamed, by_id):
        await monitor.close()


async def test_v3_with_a_user_takes_a_token_and_a_new_one_when_it_expires(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    harness = await start(nursery, make_component, Gns3Emulator(), api="v3", username="admin", password="admin")
    with trio.fail_after(10):
        first = await harness.collect()
        harness.emulator.expire_tokens()
        token = harness.emulator.issue_token()
        await harness.put_uplink({"filters": {"packet_loss": [5]}}, api="v3", token=token)
        second = await harness.collect()
    assert harness.metrics("gns3_project", first)[0].fields["api"] == "v3"
    assert harness.events("LINK_CONFIG_CHANGED", second)[0].details["after"]["loss_pct"] == 5.0
    assert len(harness.emulator.tokens) == 2  # ours, taken again, and the script's


async def test_v3_is_found_by_itself_and_refuses_without_credentials(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    emulator = Gns3Emulator()
    harness = await start(nursery, make_component, emulator, token="forged")
    async with httpx.AsyncClient(base_url=emulator.url or "") as client:
        assert (await client.get("/v2/version")).status_code == 200
    with trio.fail_after(10):
        first = await harness.collect()
    assert harness.metrics("gns3_project", first)[0].fields["api"] == "v2"  # a 2.x server: v2, token unused
    bare = make_component(type(harness.monitor), {"url": emulator.url, "api": "v3"})
    forged = make_component(type(harness.monitor), {"url": emulator.url, "api": "v3", "token": "forged"})
    with trio.fail_after(10):
        with pytest.raises(SourceUnavailable, match="needs a token or a username"):
            await bare.collect()
        with pytest.raises(SourceUnavailable, match="HTTP 401"):
            await forged.collect()
    for monitor in (harness.monitor, bare, forged):
        await monitor.close()


async def test_down_500_and_slow_lose_no_change(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        await harness.collect()
        emulator.set_fault("down")
        await emulator.wait_stopped()
        with pytest.raises(SourceUnavailable):
            await harness.collect()
        emulator.set_fault(None)
        await emulator.wait_listening()
        await harness.put_uplink({"filters": {"delay": [80, 0]}})
        emulator.set_fault("error")
        with pytest.raises(SourceUnavailable, match="HTTP 500"):
            await harness.collect()
        emulator.set_fault("slow", slow_delay=0.3)
        with trio.move_on_after(0.1):  # the core's timeout cuts the poll short
            await harness.collect()
        emulator.set_fault(None)
        await harness.collect()
        await harness.collect()
    assert len(harness.events("LINK_CONFIG_CHANGED")) == 1


async def test_malformed_answers(harness: Harness) -> None:
    emulator = harness.emulator
    links_path = f"/v2/projects/{emulator.project.project_id}/links"
    with trio.fail_after(10):
        emulator.set_fault("malformed")
        with pytest.raises(MalformedResponse):
            await harness.collect()
        emulator.set_fault(None)
        emulator.broken_paths.add(links_path)
        partial = await harness.collect()
        emulator.broken_paths.discard(links_path)
        whole = await harness.collect()
    [error] = harness.events("MALFORMED_RESPONSE", partial)
    assert error.details["endpoint"] == links_path and error.level == "ERROR"
    assert harness.metrics("gns3_link", partial) == [] and harness.metrics("gns3_project", partial)
    assert harness.monitor.runtime.stats.counters["malformed"] == 1
    assert len(harness.metrics("gns3_link", whole)) == 10 and len(harness.events("GNS3_PROJECT_SNAPSHOT", whole)) == 1
