"""Query-parameter parsing and the stream classification, without a server."""

from __future__ import annotations

import pytest
from flcollector import Event, Metric
from flcollector.plugins.server.jsonio import iso
from flcollector.plugins.server.params import ParamError, Params, parse_time
from flcollector.plugins.websocket.hub import Client, Hub
from flcollector.plugins.websocket.streams import classify
from flcollector.stats import ComponentStats

T = 1_737_023_400_000_000_000  # 2025-01-16T10:30:00Z


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-16T10:30:00Z",
        "2025-01-16T10:30:00",
        "2025-01-16T11:30:00+01:00",
        "1737023400",
        "1737023400.0",
        "1737023400000",
        "1737023400000000",
        str(T),
    ],
)
def test_times_in_every_accepted_spelling(text: str) -> None:
    assert parse_time("from", text) == T


@pytest.mark.parametrize("text", ["soon", "-5", "nan", "2025-13-01"])
def test_bad_times_name_the_param(text: str) -> None:
    with pytest.raises(ParamError) as error:
        parse_time("from", text)
    assert error.value.param == "from"


def test_iso_output_is_utc_with_z() -> None:
    assert iso(T + 123_456_789) == "2025-01-16T10:30:00.123456Z"
    assert iso(None) is None


def test_params_listing_tags_and_levels() -> None:
    params = Params(
        {"name": "a,b"}, [("name", "a,b"), ("name", "c"), ("tag.host", "n1"), ("tag.", "x"), ("level", "warning,error")]
    )
    assert params.listing("name") == ["a", "b", "c"]
    assert params.tags() == {"host": "n1"}
    assert params.levels("level") == ["WARNING", "ERROR"]
    assert params.integer("missing", default=7) == 7
    assert params.duration("timeframe", default=60.0) == 60.0


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
    stats = ComponentStats(kind="listener", instance="server", plugin="server")
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
