"""The ``gns3_stream`` listener: a change within a second, stamped on arrival, once; reconnects; auto_close's risk."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
import trio
from conftest import Harness, start
from flcollector import Event, Record
from flcollector.emulators.gns3 import Gns3Emulator
from flcollector.plugins.gns3.stream import Gns3StreamListener


class Stream:
    """A listener following the harness's monitor; what it sends arrives on ``received``."""

    def __init__(self, harness: Harness, listener: Gns3StreamListener) -> None:
        self.harness = harness
        self.listener = listener
        self.send_channel, self.received = trio.open_memory_channel[Record](1000)
        self.seen: list[Record] = []

    async def send(self, records: Sequence[Record]) -> None:
        for record in records:
            await self.send_channel.send(record)

    async def next_event(self, kind: str) -> Event:
        """Wait for the next event of type ``kind`` the listener sends (the caller bounds the wait)."""
        async for record in self.received:
            self.seen.append(record)
            if isinstance(record, Event) and record.type == kind:
                return record
        raise AssertionError("the listener stopped")


async def follow(
    nursery: trio.Nursery, make_component: Callable[..., Any], harness: Harness, **options: Any
) -> Stream:
    listener = make_component(Gns3StreamListener, {"reconnect_delay": "50ms", **options})
    listener.monitor = harness.monitor
    stream = Stream(harness, listener)
    await harness.collect()  # the first poll finds the project; the listener waits for it
    await nursery.start(listener.run, stream.send)
    await stream.next_event("GNS3_STREAM_CONNECTED")
    return stream


@pytest.fixture
async def stream(nursery: trio.Nursery, make_component: Callable[..., Any], harness: Harness) -> AsyncIterator[Stream]:
    with trio.fail_after(10):
        yield await follow(nursery, make_component, harness)


async def test_a_change_arrives_within_a_second_stamped_on_arrival_and_only_once(stream: Stream) -> None:
    harness = stream.harness
    with trio.fail_after(10):
        before_ns = time.time_ns()
        started = trio.current_time()
        await harness.put_uplink({"filters": {"delay": [80, 0], "packet_loss": [2]}})
        with trio.fail_after(1.0):
            event = await stream.next_event("LINK_CONFIG_CHANGED")
        reacted_s = trio.current_time() - started
        after_poll = await harness.collect()
    assert reacted_s < 1.0
    assert event.details["detected_by"] == "stream" and event.details["link"] == "fl-server:eth0<->openvswitch:eth1"
    assert event.details["changes"]["delay"] == {"before": None, "after": [80, 0]}
    assert before_ns <= event.time_ns <= time.time_ns()  # GNS3 sends no time: the arrival is the stamp
    assert harness.events("LINK_CONFIG_CHANGED", after_poll) == []  # the poll agrees: not reported twice
    assert harness.uplink_metric(after_poll).fields["latency_ms"] == 80.0


async def test_connected_event_warns_about_auto_close(stream: Stream) -> None:
    [connected] = [r for r in stream.seen if isinstance(r, Event) and r.type == "GNS3_STREAM_CONNECTED"]
    assert connected.level == "WARNING" and connected.details["auto_close"] is True
    assert "auto_close" in connected.message


async def test_reconnects_and_the_poll_reconciles_what_the_stream_missed(stream: Stream) -> None:
    harness, emulator = stream.harness, stream.harness.emulator
    with trio.fail_after(10):
        emulator.set_fault("down")
        lost = await stream.next_event("GNS3_STREAM_LOST")
        await emulator.wait_stopped()
        # a change while nobody listens (as if made on the server's console): no notification reaches us
        emulator.update_link(emulator.project, emulator.link_between("fl-server", "openvswitch"), {"suspend": True})
        emulator.set_fault(None)
        await emulator.wait_listening()
        reconciled = await harness.collect()
        await stream.next_event("GNS3_STREAM_CONNECTED")
        await harness.put_uplink({"suspend": False})
        back = await stream.next_event("LINK_CONFIG_CHANGED")
    assert lost.level == "WARNING" and lost.details["listener"] == "gns3_stream"
    [missed] = harness.events("LINK_CONFIG_CHANGED", reconciled)
    assert missed.details["detected_by"] == "poll" and missed.details["changes"]["suspend"]["after"] is True
    assert back.details["detected_by"] == "stream" and back.details["changes"]["suspend"]["after"] is False
    assert len([r for r in stream.seen if isinstance(r, Event) and r.type == "GNS3_STREAM_LOST"]) == 1


async def test_project_closed_and_malformed_notifications(stream: Stream) -> None:
    emulator = stream.harness.emulator
    with trio.fail_after(10):
        emulator.send_raw(emulator.project, "<html>not a notification")
        malformed = await stream.next_event("MALFORMED_RESPONSE")
        emulator.close_project(emulator.project)
        closed = await stream.next_event("GNS3_PROJECT_CLOSED")
        polled = await stream.harness.collect()
    assert malformed.level == "ERROR" and stream.listener.runtime.stats.counters["malformed"] == 1
    assert closed.details["detected_by"] == "stream" and closed.level == "ERROR"
    assert stream.harness.events("GNS3_PROJECT_CLOSED", polled) == []  # once, by whoever saw it first


async def test_v3_stream_uses_the_monitors_token(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    harness = await start(nursery, make_component, Gns3Emulator(), api="v3", username="admin", password="admin")
    with trio.fail_after(10):
        stream = await follow(nursery, make_component, harness)
        token = next(iter(harness.emulator.tokens))
        await harness.put_uplink({"filters": {"corrupt": [5]}}, api="v3", token=token)
        with trio.fail_after(1.0):
            event = await stream.next_event("LINK_CONFIG_CHANGED")
    assert event.details["after"]["corrupt_pct"] == 5.0
    await harness.monitor.close()


async def test_leaving_the_stream_closes_an_auto_close_project(
    nursery: trio.Nursery, make_component: Callable[..., Any], harness: Harness
) -> None:
    """The risk the docs warn about: the agent stops listening (a restart), GNS3 closes the running project."""
    with trio.fail_after(10):
        with trio.CancelScope() as agent:
            listener = make_component(Gns3StreamListener)
            listener.monitor = harness.monitor
            stream = Stream(harness, listener)
            await harness.collect()
            async with trio.open_nursery() as inner:
                await inner.start(listener.run, stream.send)
                await stream.next_event("GNS3_STREAM_CONNECTED")
                agent.cancel()  # the agent stops
        await harness.emulator.closed.wait()
        after = await harness.collect()
    assert harness.emulator.auto_closed == 1
    assert harness.events("GNS3_PROJECT_CLOSED", after)
    assert all(node.status == "stopped" for node in harness.emulator.project.nodes.values())


async def discard(records: Sequence[Record]) -> None:
    """A ``send`` that keeps nothing."""


async def test_without_its_monitor_the_listener_says_so(make_component: Callable[..., Any]) -> None:
    listener = make_component(Gns3StreamListener, {"monitor": "missing"})
    with trio.fail_after(10):
        await listener.run(discard)
    assert listener.runtime.stats.status == "error" and "missing" in (listener.runtime.stats.last_error or "")
