"""The configured conditions of a link, what they add to a round trip, and the tracker that reports changes once."""

from __future__ import annotations

import pytest
from flcollector.plugins.gns3.conditions import (
    LinkConfig,
    NodeInfo,
    applies_filters,
    conditions,
    filter_changes,
    link_tags,
    parse_link,
    parse_node,
)
from flcollector.plugins.gns3.tracker import LinkTracker


def test_delay_counts_twice_per_round_trip_and_loss_compounds() -> None:
    fields = conditions({"delay": [80, 5], "packet_loss": [2]}, False, True)
    assert fields["latency_ms"] == 80.0 and fields["jitter_ms"] == 5.0 and fields["loss_pct"] == 2.0
    assert fields["rtt_added_ms"] == 160.0
    assert fields["loss_roundtrip_pct"] == pytest.approx(100 * (1 - 0.98**2))  # 3.96 %, not 2 %
    assert fields["suspended"] is False and fields["filters_applied"] is True


@pytest.mark.parametrize(
    ("filters", "suspend", "roundtrip"),
    [
        ({"frequency_drop": [-1]}, False, 100.0),  # -1 drops everything
        ({"frequency_drop": [10]}, False, 19.0),  # every 10th packet, each way
        ({"delay": [80]}, True, 100.0),  # suspended: nothing passes, whatever the filters say
        ({"corrupt": [50]}, False, 0.0),  # corruption does not drop at the filter
    ],
)
def test_drops(filters: dict[str, list[int]], suspend: bool, roundtrip: float) -> None:
    assert conditions(filters, suspend, True)["loss_roundtrip_pct"] == pytest.approx(roundtrip)


def test_a_link_no_endpoint_can_filter_adds_nothing() -> None:
    fields = conditions({"delay": [80]}, False, False)
    assert fields["latency_ms"] == 80.0 and fields["filters_applied"] is False
    assert fields["rtt_added_ms"] == 0.0 and fields["loss_roundtrip_pct"] == 0.0


def test_values_the_server_keeps_as_strings_and_bpf_lines() -> None:
    fields = conditions({"delay": ["80"], "bpf": ["icmp\nudp port 53\n", " "]}, False, None)
    assert fields["latency_ms"] == 80.0 and fields["bpf_rules"] == 2 and "filters_applied" not in fields


def test_names_filter_node_and_unknown_nodes() -> None:
    server = NodeInfo("n1", "fl-server", "docker", "started", {(0, 0): "eth0"})
    switch = NodeInfo("n2", "switch1", "ethernet_switch", "started", {(0, 3): "Ethernet3"})
    hub = NodeInfo("n3", "hub", "ethernet_hub", "started", {})
    link = LinkConfig("l1", (("n2", 0, 3), ("n1", 0, 0)), {}, False)
    nodes = {n.node_id: n for n in (server, switch, hub)}
    assert link_tags("p", link, nodes) == {
        "project": "p", "link_id": "l1", "node_a": "switch1", "port_a": "Ethernet3", "node_b": "fl-server",
        "port_b": "eth0", "link": "switch1:Ethernet3<->fl-server:eth0", "filter_node": "fl-server",
    }
    assert applies_filters(LinkConfig("l2", (("n2", 0, 1), ("n3", 0, 0)), {}, False), nodes) is False
    assert applies_filters(LinkConfig("l3", (("n2", 0, 1), ("zz", 0, 0)), {}, False), nodes) is None
    assert link_tags("p", LinkConfig("l3", (("zz", 1, 2), ("n1", 0, 0)), {}, False), nodes)["node_a"] == "zz"


def test_filter_changes_per_type() -> None:
    assert filter_changes({"delay": [10]}, False, {"delay": [80, 0], "packet_loss": [2]}, True) == {
        "delay": {"before": [10], "after": [80, 0]},
        "packet_loss": {"before": None, "after": [2]},
        "suspend": {"before": False, "after": True},
    }


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([], "link_id"),
        ({"link_id": "x", "nodes": [{"adapter_number": 0}]}, "node_id"),
        ({"link_id": "x", "nodes": [], "filters": {"delay": 80}}, "filters"),
        ({"link_id": "x", "nodes": [], "suspend": "yes"}, "suspend"),
        ({"link_id": "x", "nodes": [{"node_id": "a", "adapter_number": "one"}]}, "integers"),
    ],
)
def test_malformed_links_are_refused_with_a_reason(raw: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_link(raw)


def test_malformed_nodes_are_refused() -> None:
    with pytest.raises(ValueError, match="node_id"):
        parse_node({"name": "x"})
    assert parse_node({"node_id": "a", "name": "b", "node_type": "docker"}).status is None  # a closed project's node


def test_tracker_reports_once_and_ignores_a_poll_older_than_the_streams_news() -> None:
    tracker = LinkTracker()
    assert tracker.observe("l", {}, False, 100, "poll") is None  # the baseline
    assert tracker.observe("l", {}, False, 200, "poll") is None
    change = tracker.observe("l", {"delay": [80]}, False, 300, "stream")
    assert change is not None and change.before.seen_ns == 200 and change.after.changed_ns == 300
    # a poll whose requests left before the stream's news still shows the old configuration: not a change back
    assert tracker.observe("l", {}, False, 310, "poll", asked_ns=250) is None
    assert tracker.current("l") is not None and tracker.current("l").filters == {"delay": [80]}  # type: ignore[union-attr]
    assert tracker.observe("l", {"delay": [80]}, False, 400, "poll", asked_ns=350) is None  # seen by the stream already
    assert tracker.observe_status("opened") is False and tracker.observe_status("closed") is True
    assert tracker.observe_status("closed") is False
