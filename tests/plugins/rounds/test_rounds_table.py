"""The round table fed the records the monitors write: rounds placed by the FL server's own times, per-client
bytes against the port counters, traffic shares, counter resets, running and final rows, coverage, stragglers."""

from __future__ import annotations

from typing import Any

import pytest
from flcollector import Event, Metric
from rounds_records import (
    CLIENT1,
    CLIENT2,
    EXP,
    PORTS,
    SERVER,
    fl_round,
    fl_server,
    ns,
    outage,
    peer,
    port,
    rows,
    started,
    table,
    topology,
    traffic,
)
from rounds_records import clients as clients_of

CLIENT1_TX, CLIENT2_TX = 100_500, 200_500  # bytes/s each client sends: its update, plus 500 to the policy engine


def second(t: int, stamp: int | None = None) -> list[Metric]:
    """One SDN poll at ``t`` s: both clients' ports (cumulative counters), their FL-server peers, the traffic."""
    out = [port(t, PORTS[CLIENT1], CLIENT1_TX * t, 300_000 * t), port(t, PORTS[CLIENT2], CLIENT2_TX * t, 300_000 * t)]
    if t > 0:
        out += [peer(t, CLIENT1, 100_000, 300_000), peer(t, CLIENT2, 200_000, 300_000)]
        out += traffic(t, fl=900_000, control=1_000, background=0)
    return [Metric(m.name, m.fields, m.time_ns, m.tags, m.source, m.experiment, stamp) for m in out]


def run(until: int, rounds: dict[int, tuple[float, float]], extra: dict[int, list[Any]] | None = None,
        stamps: dict[int, int] | None = None, **options: Any) -> list[Any]:
    """Feed one batch per second up to ``until``; a round's fl_round arrives with the first poll after its end
    (as an FL server that logs a round when it ends); return every record the table added."""
    t = table(**options)
    out: list[Any] = t.feed([topology(0)])
    for second_ in range(until + 1):
        batch: list[Any] = [*second(second_, (stamps or {}).get(second_)), fl_server(second_)]
        batch += [fl_round(n, start, end) for n, (start, end) in rounds.items() if second_ - 1 < end <= second_]
        batch += (extra or {}).get(second_, [])
        out += t.feed(batch)
    return out


ROUNDS = {1: (0.5, 4.5), 2: (4.5, 8.5)}


def test_rows_are_final_after_settle_and_count_each_interval_by_its_share_of_the_round() -> None:
    out = run(11, ROUNDS)
    final = rows(out)
    assert {n: r.fields["complete"] for n, r in final.items()} == {1: True, 2: True}
    one = final[1].fields
    assert (one["start_ns"], one["end_ns"], one["window_s"]) == (ns(0.5), ns(4.5), 4.0)
    assert one["accuracy"] == 0.51 and final[1].time_ns == ns(0.5) and final[1].experiment == EXP
    clients = clients_of(out, 1)
    assert set(clients) == {"fl-client-1", "fl-client-2"}
    c1 = clients["fl-client-1"].fields
    assert c1["bytes_to_server"] == pytest.approx(4 * 100_000) and c1["bytes_from_server"] == pytest.approx(4 * 300_000)
    assert c1["port_rx_bytes"] == pytest.approx(4 * CLIENT1_TX) and c1["port_tx_bytes"] == pytest.approx(4 * 300_000)
    # a client's bytes to the server are within 2 % of what its switch port received from it (the rest: policy)
    for client in clients.values():
        assert client.fields["to_server_share_pct"] == pytest.approx(100, abs=2)
        assert client.fields["from_server_share_pct"] == pytest.approx(100, abs=2)
    assert one["fl_server_bytes"] == pytest.approx(4 * 900_000) and one["attributed_pct"] == pytest.approx(100)
    assert one["fl_bytes"] + one["control_bytes"] + one["background_bytes"] == pytest.approx(one["total_bytes"])
    assert one["fl_pct"] + one["control_pct"] + one["background_pct"] == pytest.approx(100)
    assert one["clients_participating"] == 2 and one["fl_bytes_per_client"] == pytest.approx(4 * 900_000 / 2)


def test_records_go_to_the_round_their_time_falls_in_not_the_round_they_were_stamped_with() -> None:
    # The FL server moves current_round at aggregation, so the run context stamps round 2's traffic with 1.
    stamped = run(11, ROUNDS, stamps={t: 1 for t in range(5, 10)})
    assert clients_of(stamped, 2)["fl-client-1"].fields["bytes_to_server"] == pytest.approx(4 * 100_000)
    assert clients_of(stamped, 1)["fl-client-1"].fields["bytes_to_server"] == pytest.approx(4 * 100_000)


def test_a_counter_reset_counts_what_moved_since_and_never_goes_negative() -> None:
    t = table()
    t.feed([topology(0), fl_server(0)])
    rx = {0: 0, 1: CLIENT1_TX, 2: 2 * CLIENT1_TX, 4: 50_000 + CLIENT1_TX, 5: 50_000 + 2 * CLIENT1_TX}
    for second_, value in rx.items():  # the switch restarted at 3.5 s; the monitor emits no sdn_port at 3 s
        t.feed([port(second_, PORTS[CLIENT1], value, 0), fl_server(second_)])
    out = t.feed([fl_round(1, 0.5, 4.5), fl_server(9)])
    moved = clients_of(out, 1)["fl-client-1"].fields["port_rx_bytes"]
    # [0.5, 2]: 1.5 s of the steady rate; [2, 4]: the counter restarted, so what it holds is what moved since;
    # [4, 4.5]: half the next second
    assert moved == pytest.approx(1.5 * CLIENT1_TX + (50_000 + CLIENT1_TX) + 0.5 * CLIENT1_TX)
    assert t.intake.counters.resets == 1


def test_a_running_round_is_emitted_as_it_runs_then_once_more_when_final() -> None:
    t = table()
    out: list[Any] = t.feed([topology(0), *second(0), started(1, 0.5, at=0.6)])  # logged when it starts
    seen: list[dict[str, Any]] = []
    for second_ in range(1, 9):
        batch = [*second(second_), fl_server(second_)]
        if second_ == 5:
            batch.append(fl_round(1, 0.5, 4.5))
        produced = t.feed(batch)
        seen += [dict(r.fields) for r in produced if r.name == "fl_round_network"]
        out += produced
    running = [f for f in seen if not f["complete"]]
    assert running and "end_ns" not in running[0]  # while it ran, before its end was known
    assert [f["complete"] for f in seen][-1] is True and sum(f["complete"] for f in seen) == 1
    growing = [f.get("port_rx_bytes", 0) for f in running if "end_ns" not in f]
    assert growing == sorted(growing) and growing[-1] > 0  # bytes so far, provisionally
    assert seen[-1]["port_rx_bytes"] == pytest.approx(4 * (CLIENT1_TX + CLIENT2_TX))


def test_coverage_is_the_share_of_the_window_each_monitor_collected() -> None:
    extra = {2: [outage("SOURCE_UNREACHABLE", 1.5)], 4: [outage("SOURCE_RECOVERED", 3.5)],
             7: [Event("AGENT_STARTED", "a", ns(7.5), "flcollector",
                       details={"previous_record_ns": ns(6.5), "started_ns": ns(7.5)})]}
    out = run(11, ROUNDS, extra, monitors={"policy": 1.0, "sdn": 1.0})
    one, two = rows(out)[1].fields, rows(out)[2].fields
    assert (one["coverage_policy"], one["coverage_sdn"], one["coverage_min"]) == (0.5, 1.0, 0.5)
    assert two["coverage_policy"] == two["coverage_sdn"] == pytest.approx(0.75)  # the agent was down 1 s of 4


def test_a_failed_collection_costs_one_interval_and_an_endpoint_error_nothing() -> None:
    failed = Event("MALFORMED_RESPONSE", "m", ns(2), "sdn", "ERROR", {"monitor": "sdn", "plugin": "sdn"})
    endpoint = Event("MALFORMED_RESPONSE", "m", ns(3), "sdn", "ERROR", {"monitor": "sdn", "endpoint": "/x"})
    out = run(11, ROUNDS, {2: [failed], 3: [endpoint]}, monitors={"sdn": 0.5})
    assert rows(out)[1].fields["coverage_sdn"] == pytest.approx(1 - 0.5 / 4)


def test_stragglers_are_clients_slower_than_the_factor_times_the_median() -> None:
    times = [Metric("fl_client", {"training_time_s": s}, ns(2), {"client_id": c}, "fl_client", EXP, 1)
             for c, s in (("fl-client-1", 10.0), ("fl-client-2", 11.0), ("fl-client-3", 30.0))]
    out = run(11, ROUNDS, {2: times})
    assert rows(out)[1].fields["stragglers"] == 1
    assert {c: m.fields.get("straggler") for c, m in clients_of(out, 1).items()} == {
        "fl-client-1": False, "fl-client-2": False, "fl-client-3": True}


def test_traffic_between_rounds_belongs_to_none_and_is_counted_for_the_experiment() -> None:
    out = run(14, {1: (0.5, 4.5), 2: (6.5, 10.5)})  # a pause from 4.5 to 6.5
    assert clients_of(out, 2)["fl-client-1"].fields["bytes_to_server"] == pytest.approx(4 * 100_000)
    [summary] = [r for r in out if r.name == "fl_experiment"][-1:]
    # before round 1 (0 to 0.5 s) and the pause; what came after round 2 waits: a round 3 may still be announced
    assert summary.fields["between_rounds_fl_bytes"] == pytest.approx((0.5 + 2) * 900_000)
    assert summary.fields["rounds"] == 2 and summary.tags == {"experiment_id": EXP}


def test_a_round_that_never_completed_ends_where_the_next_one_starts() -> None:
    t = table()
    t.feed([started(1, 0.5), fl_server(1)])
    out = t.feed([started(2, 3.0), fl_server(3)]) + t.feed([fl_server(6)])
    assert rows(out)[1].fields["end_ns"] == ns(3.0) and rows(out)[1].fields["complete"] is True
    assert "accuracy" not in rows(out)[1].fields


def test_peers_and_clients_named_by_mac_are_found_through_the_topology() -> None:
    t = table()
    t.feed([topology(0), fl_server(0)])
    mac = f"02:42:c0:a8:64:{CLIENT2.rsplit('.', 1)[1]}"
    out = t.feed([peer(2, mac, 1000, 2000), peer(2, SERVER.replace("10", "20"), 5, 5), fl_round(1, 0.5, 4.5),
                  fl_server(8)])
    assert clients_of(out, 1)["fl-client-2"].fields["bytes_to_server"] == pytest.approx(1000)
    assert rows(out)[1].fields["other_peer_bytes"] == pytest.approx(10)  # the policy engine is no client
