"""``WS /ws/metrics`` of the websocket sink with a real client (trio-websocket): streams, backfill, errors, drops,
keepalive, shutdown."""

from __future__ import annotations

import json

import pytest
import trio
from flcollector import Event, Metric, Record
from flcollector.plugins.anomaly.processor import AnomalyProcessor
from trio_websocket import ConnectionClosed, open_websocket_url

T0 = 1_750_000_000 * 10**9


def ws_url(http_url: str, query: str = "") -> str:
    return http_url.replace("http://", "ws://", 1) + "/ws/metrics" + query


async def next_message(ws, skip: tuple[str, ...] = ("welcome", "subscribed", "ping")) -> dict:
    while True:
        message = json.loads(await ws.get_message())
        if message["type"] not in skip:
            return message


async def test_subscribed_stream_receives_spec_shaped_messages(running) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url)) as ws:
            welcome = json.loads(await ws.get_message())
            assert welcome["type"] == "welcome" and "fl_training" in welcome["streams"]
            await ws.send_message(json.dumps({"action": "subscribe", "streams": ["fl_training"]}))
            subscribed = json.loads(await ws.get_message())
            assert subscribed["type"] == "subscribed" and subscribed["streams"] == ["fl_training"]
            await running.agent.send([Metric("cpu", {"percent": 1.0}), Metric("fl_round", {"accuracy": 0.9}, round=3)])
            message = await next_message(ws)
    assert message["type"] == "fl_round_update"
    assert message["stream"] == "fl_training"
    assert message["data"]["fields"] == {"accuracy": 0.9} and message["data"]["round"] == 3
    assert message["timestamp"].endswith("Z")
    # the spec's client: updateFLCharts(data.metrics)
    assert message["metrics"] == {"round": 3, "experiment_id": "exp_test", "accuracy": 0.9}


async def test_alerts_policy_and_network_streams(running) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url, "?streams=alerts,policy_events")) as ws:
            await running.agent.send(
                [
                    Event("LINK_DOWN", "s1-s2 down", level="ERROR", source="sdn_controller"),
                    Event("POLICY_DECISION", "denied", source="policy_engine"),
                    Metric("network", {"links": 3}),
                ]
            )
            first, second = await next_message(ws), await next_message(ws)
    assert (first["type"], first["data"]["type"]) == ("network_alert", "LINK_DOWN")
    assert (second["type"], second["stream"]) == ("policy_event", "policy_events")
    # the spec's client: showNetworkAlert(data.alert), logPolicyEvent(data.event)
    alert = first["alert"]
    assert (alert["type"], alert["alert_type"], alert["severity"]) == ("link_down", "link_down", "high")
    assert alert["message"] == "s1-s2 down" and isinstance(alert["timestamp"], float)
    assert second["event"]["type"] == "POLICY_DECISION" and second["event"]["message"] == "denied"


async def test_an_anomaly_is_a_network_alert_in_the_spec_shape(running, make_component) -> None:
    """Issue 8 item 5: the anomaly processor's latency spike reaches the spec's client as ``data.alert``."""
    anomaly = make_component(AnomalyProcessor, {})
    probes: list[Record] = [
        Metric("probe_tcp", {"rtt_avg_ms": 20.0 + i % 2}, time_ns=T0 + i, source="probe") for i in range(12)
    ]
    probes.append(Metric("probe_tcp", {"rtt_avg_ms": 180.0}, time_ns=T0 + 12, source="probe"))
    (event,) = [r for r in anomaly.process(probes) if isinstance(r, Event)]
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url, "?streams=network_performance")) as ws:
            await running.agent.send([event])
            message = await next_message(ws)
    assert message["type"] == "network_alert"
    alert = message["alert"]
    assert alert["type"] == alert["alert_type"] == "network_latency_spike" and alert["severity"] == "high"
    assert alert["current_value"] == 180.0 and alert["baseline"] == 20.5
    assert alert["timestamp"] == (T0 + 12) / 1e9 and alert["expected_range"] == [None, 120.5]


async def test_bad_messages_get_error_frames_and_the_socket_stays_open(running) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url)) as ws:
            replies = []
            for bad in (
                "not json",
                "[1]",
                '{"action": "dance"}',
                '{"action": "subscribe", "streams": ["nope"]}',
                '{"action": "subscribe", "streams": "fl_training"}',
                '{"action": "subscribe", "streams": [], "backfill": -1}',
            ):
                await ws.send_message(bad)
                replies.append(await next_message(ws))
            await ws.send_message('{"action": "ping"}')
            pong = await next_message(ws)
    assert [r["type"] for r in replies] == ["error"] * 6
    assert "not JSON" in replies[0]["message"] and "nope" in replies[3]["message"]
    assert pong["type"] == "pong"


async def test_unsubscribe_stops_a_stream(running) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url, "?streams=system,fl_training")) as ws:
            await ws.send_message('{"action": "unsubscribe", "streams": ["system"]}')
            reply = await next_message(ws, skip=("welcome", "ping"))
            while reply["type"] != "subscribed" or reply["streams"] != ["fl_training"]:
                reply = await next_message(ws, skip=("welcome", "ping"))
            await running.agent.send([Metric("cpu", {"percent": 1.0}), Metric("fl_client", {"accuracy": 0.1})])
            message = await next_message(ws)
    assert message["type"] == "fl_metric_update"


async def test_backfill_sends_recent_stored_records_first(running) -> None:
    await running.send(
        [Metric("fl_round", {"accuracy": a}, round=i) for i, a in enumerate((0.1, 0.2, 0.3))]
        + [Metric("cpu", {"percent": 5.0})]
    )
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url)) as ws:
            await ws.send_message(json.dumps({"action": "subscribe", "streams": ["fl_training"], "backfill": 2}))
            backfill = [await next_message(ws), await next_message(ws)]
    assert [m["data"]["fields"]["accuracy"] for m in backfill] == [0.2, 0.3]
    assert all(m["backfill"] is True for m in backfill)


async def test_slow_client_is_told_what_it_lost(start_server) -> None:
    agent = await start_server(websocket="queue_size = 10\n")
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(url, "?streams=all")) as ws:
            await next_message(ws, skip=())  # welcome: the client is registered with the hub
            # One batch of 500 is offered in one go, faster than any socket: the queue keeps the newest 10.
            await agent.send([Metric("cpu", {"i": i}) for i in range(500)])
            dropped = await next_message(ws)
            kept = [await next_message(ws) for _ in range(10)]
    assert dropped == {**dropped, "type": "dropped", "count": 490}
    assert [m["data"]["fields"]["i"] for m in kept] == list(range(490, 500))
    assert agent.find("sink", "websocket").runtime.stats.counters["ws_dropped"] == 490
    agent.stop()


async def test_batch_mode_sends_arrays(running) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url)) as ws:
            await ws.send_message('{"action": "subscribe", "streams": ["system"], "batch": true}')
            await next_message(ws, skip=("welcome",))
            await running.agent.send([Metric("cpu", {"i": i}) for i in range(3)])
            received: list[dict] = []
            while len(received) < 3:
                frame = await next_message(ws)
                assert frame["type"] == "batch"
                received += frame["data"]
    assert [m["data"]["fields"]["i"] for m in received] == [0, 1, 2]


async def test_keepalive_pings(start_server) -> None:
    agent = await start_server(websocket='keepalive = "20ms"\n')
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(url)) as ws:
            ping = await next_message(ws, skip=("welcome",))
    assert ping["type"] == "ping"
    agent.stop()


async def test_shutdown_closes_sockets_with_1001(start_server) -> None:
    agent = await start_server()
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(url, "?streams=all")) as ws:
            await next_message(ws, skip=())
            agent.stop()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.get_message()
    assert closed.value.reason is not None and closed.value.reason.code == 1001
