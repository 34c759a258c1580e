"""Configured against observed: the GNS3 path conditions, the probes' added RTT over a clean baseline, the loss on
the FL server's switch port, and the flag when they disagree by more than the tolerance."""

from __future__ import annotations

from typing import Any

import pytest
from flcollector.plugins.rounds.paths import LinkGraph
from rounds_records import PORTS, SERVER, fl_round, fl_server, gns3_poll, link, ns, port, probe, rows, table, topology
from rounds_records import clients as clients_of


def test_a_path_adds_each_link_twice_for_delay_and_combines_losses() -> None:
    graph = LinkGraph([link(0, "fl-server", "openvswitch", latency=80, loss=2),
                       link(0, "openvswitch", "switch1", latency=10), link(0, "switch1", "fl-client-1", loss=1),
                       link(0, "collector", "openvswitch")])
    to_client = graph.path("fl-client-1", "fl-server")
    assert to_client is not None and to_client.links == 3
    assert to_client.rtt_added_ms == 2 * 80 + 2 * 10
    assert to_client.loss_roundtrip_pct == pytest.approx(100 * (1 - (0.98 ** 2) * (0.99 ** 2)))
    assert graph.path("collector", "fl-server").rtt_added_ms == 160  # type: ignore[union-attr]
    assert graph.path("collector", "nowhere") is None
    assert (graph.configured, graph.suspended) == (3, 0)
    cut = LinkGraph([link(0, "fl-server", "openvswitch", suspended=True), link(0, "collector", "openvswitch")])
    assert cut.path("collector", "fl-server").loss_roundtrip_pct == 100.0  # type: ignore[union-attr]


def degraded_run(rtt_in_round_2: float, loss_each_way: float = 2.0) -> dict[int, Any]:
    """Round 1 clean, round 2 with the FL server's uplink at 80 ms / 2 %: probes and the server's port as given."""
    t = table()
    out: list[Any] = t.feed([topology(0)])
    rounds = {1: (0.5, 4.5), 2: (4.5, 8.5)}
    for s in range(12):
        degraded = 5 <= s <= 9  # the polls whose intervals cover round 2
        batch: list[Any] = [fl_server(s), *gns3_poll(s, 80 if degraded else 0, 2 if degraded else 0)]
        batch.append(probe(s, rtt_in_round_2 if degraded else 1.0))
        drops = loss_each_way if degraded else 0.0
        batch.append(port(s, PORTS[SERVER], 1000 * s, 1000 * s, rx_pps=100 - drops, tx_pps=100 - drops,
                          rx_drops=drops, tx_drops=drops))
        batch += [fl_round(n, a, b) for n, (a, b) in rounds.items() if s - 1 < b <= s]
        out += t.feed(batch)
    return {**rows(out), "clients": clients_of(out, 2)}


def test_a_round_that_got_the_configured_network_is_not_flagged() -> None:
    found = degraded_run(rtt_in_round_2=171.0)
    one, two = found[1].fields, found[2].fields
    assert one["configured_rtt_added_ms"] == 0 and one["mismatch"] is False and "baseline_rtt_ms" not in one
    assert two["configured_rtt_added_ms"] == 160 and two["configured_loss_roundtrip_pct"] == pytest.approx(3.96)
    assert two["baseline_rtt_ms"] == 1.0 and two["observed_rtt_added_ms"] == pytest.approx(170)
    assert two["fl_server_port_loss_pct"] == pytest.approx(3.96)
    assert (two["mismatch_latency"], two["mismatch_loss"], two["mismatch"]) == (False, False, False)
    assert two["links_configured"] == 1 and two["link_config_changes"] == 0
    client = found["clients"]["fl-client-1"].fields
    assert client["configured_rtt_added_ms"] == 160  # the client's path to the server crosses the uplink too


def test_a_round_whose_network_did_not_add_the_configured_delay_is_flagged_with_what_differs() -> None:
    two = degraded_run(rtt_in_round_2=1.2)[2].fields
    assert two["observed_rtt_added_ms"] == pytest.approx(0.2)
    assert (two["mismatch_latency"], two["mismatch_loss"], two["mismatch"]) == (True, False, True)
    assert two["mismatch_detail"] == "latency: configured +160.0 ms, observed +0.2 ms"


def test_loss_is_compared_as_round_trip_loss() -> None:
    two = degraded_run(rtt_in_round_2=171.0, loss_each_way=10.0)[2].fields
    assert two["fl_server_port_loss_pct"] == pytest.approx(19.0)
    assert two["mismatch_loss"] is True and "loss: configured +4.0 %, observed +19.0 %" in two["mismatch_detail"]


def test_records_no_round_can_claim_are_placed_after_max_hold() -> None:
    t = table(max_hold="5s")
    t.feed([topology(0), port(0, PORTS[SERVER], 0, 0)])
    for s in range(1, 4):
        t.feed([port(s, PORTS[SERVER], 1000 * s, 0)])
    assert {sample[1] for sample in t.pending} == {ns(s) for s in range(4)}  # no FL round yet: they wait
    t.feed([port(9, PORTS[SERVER], 9000, 0)])
    assert {sample[1] for sample in t.pending} == {ns(9)}  # older than 5 s: placed (between rounds)
