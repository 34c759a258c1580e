"""The one definition of the WebSocket streams, and the hub's bounded per-client queues, without a server."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flcollector import ComponentStats, Event, Metric
from flcollector.plugins.websocket.hub import Client, Hub
from flcollector.plugins.websocket.session import reply
from flcollector.plugins.websocket.streams import classify, control


@pytest.mark.parametrize(
    ("record", "kind", "streams"),
    [
        (Metric("fl_round", {"a": 1}), "fl_round_update", {"fl_training"}),
        (Metric("sdn_port", {"a": 1}), "network_update", {"network_performance"}),
        (Metric("cpu", {"a": 1}), "system_update", {"system"}),
        (Metric("policy_decisions", {"a": 1}), "policy_update", {"policy_events"}),
        (Event("POLICY_DENY", source="policy_engine", level="WARNING"), "policy_event", {"policy_events", "alerts"}),
        (
            Event("LINK_DOWN", source="sdn_controller", level="ERROR"),
            "network_alert",
            {"network_performance", "alerts"},
        ),
        (Event("ROUND_COMPLETED", source="fl_server"), "fl_event", {"fl_training"}),
        (Event("ANOMALY_DETECTED", source="anomaly"), "alert", {"alerts", "system"}),
        (Event("SOURCE_UNREACHABLE", source="flcollector", level="WARNING"), "alert", {"alerts", "system"}),
        (Event("STARTED", source="flcollector"), "system_event", {"system"}),
    ],
)
def test_classification(record, kind: str, streams: set[str]) -> None:
    assert classify(record) == (kind, frozenset(streams))


def test_a_full_client_drops_its_oldest_and_counts() -> None:
    stats = ComponentStats(kind="sink", instance="websocket", plugin="websocket")
    hub = Hub(stats)
    slow, fast, idle = Client(queue_size=2), Client(queue_size=100), Client(queue_size=2)
    slow.streams, fast.streams = {"system"}, {"all"}
    for client in (slow, fast, idle):
        hub.add(client)
    hub.publish([Metric("cpu", {"i": i}) for i in range(5)])
    assert len(slow.queue) == 2 and slow.dropped == 3 and '"i":4' in slow.queue[-1]
    assert len(fast.queue) == 5 and fast.dropped == 0
    assert not idle.queue  # subscribed to nothing
    assert stats.counters["ws_dropped"] == 3 and stats.extra["ws_clients"] == 3


def test_replies_are_bounded_too_and_a_client_leaving_them_unread_is_closed() -> None:
    stats = ComponentStats(kind="sink", instance="websocket", plugin="websocket")
    hub = Hub(stats)
    client = Client(queue_size=10, control_size=3)
    hub.add(client)
    for _ in range(5):
        reply(SimpleNamespace(hub=hub), client, control("pong"))  # type: ignore[arg-type]
    assert len(client.control) == 3
    assert client.close_reason is not None and client.close_reason.startswith("not reading")
    assert stats.counters["ws_slow_closed"] == 1  # counted once however often it happens


def test_backfill_is_bounded_and_its_overflow_told_like_live_drops() -> None:
    client = Client(queue_size=10, backfill_size=3)
    assert client.offer_backfill([f"m{i}" for i in range(5)]) == 2
    assert list(client.backfill) == ["m2", "m3", "m4"] and client.dropped == 2
