"""The ``sdn`` monitor against the emulated FLOPY-NET Ryu controller, stock Ryu and ONOS, in every fault mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
from flcollector import MalformedResponse, SourceUnavailable
from flcollector.emulators.sdn_controller import SdnControllerEmulator
from sdn_helpers import FLAVOURS, Harness, events, metrics, start


async def test_first_poll_snapshots_then_nothing_repeated(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        first = await harness.collect()
        second = await harness.collect()
    [snapshot] = events(first, "TOPOLOGY_SNAPSHOT")
    details = snapshot.details
    assert len(details["switches"]) == 3 and len(details["hosts"]) == 6 and len(details["links"]) == 4
    switch_ids = {s["id"] for s in details["switches"]}
    assert switch_ids == {f"{dpid:016x}" for dpid in emulator.dpids}
    assert all(link["source"] in switch_ids and link["target"] in switch_ids for link in details["links"])
    assert {(h["dpid"], h["port"]) for h in details["hosts"]} == {
        (f"{h.dpid:016x}", h.port) for h in emulator.hosts.values()
    }
    assert details["nodes"] == [*details["switches"], *details["hosts"]]
    [flows] = events(first, "FLOW_SNAPSHOT")
    installed = sum(len(f) for f in emulator.flows.values())
    assert flows.details["summary"]["total_flows"] == installed == len(flows.details["flows"])
    assert not events(first, "NODE_CONNECTED")  # the first topology is the baseline, not a change
    network = metrics(first, "network")[0].fields
    assert (network["switches_count"], network["hosts_count"], network["links_count"]) == (3, 6, 4)
    assert network["flows_total"] == installed and network["sdn_status"] == "connected"
    assert [m.tags["switch"] for m in metrics(first, "sdn_flows")] == sorted(switch_ids)
    assert not metrics(first, "sdn_traffic")  # one reading of the flow counters is no interval
    for kind in ("TOPOLOGY_SNAPSHOT", "FLOW_SNAPSHOT", "NODE_CONNECTED", "LINK_REMOVED"):
        assert not events(second, kind)
    assert metrics(second, "network") and len(metrics(second, "sdn_flows")) == 3
    assert all(r.source == "sdn_controller" for r in harness.records)


async def test_port_rates_equal_counter_delta_over_elapsed(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        await harness.collect()
        assert not metrics(harness.records, "sdn_port")  # one sample is no rate
        emulator.advance_counters()
        second = await harness.collect()
        before = {key: dict(c) for key, c in emulator.counters.items()}
        emulator.advance_counters()
        third = await harness.collect()
    assert len(metrics(second, "sdn_port")) == len(emulator.counters)
    previous = {(m.tags["switch"], m.tags["port"]): m for m in metrics(second, "sdn_port")}
    for metric in metrics(third, "sdn_port"):
        dpid, port = int(metric.tags["switch"], 16), int(metric.tags["port"])
        elapsed = (metric.time_ns - previous[metric.tags["switch"], metric.tags["port"]].time_ns) / 1e9
        after = emulator.counters[(dpid, port)]
        for counter, field, scale in (
            ("rx_bytes", "rx_bps", 8),
            ("tx_bytes", "tx_bps", 8),
            ("rx_packets", "rx_pps", 1),
            ("tx_errors", "tx_errors_ps", 1),
        ):
            expected = (after[counter] - before[(dpid, port)][counter]) * scale / elapsed
            assert metric.fields[field] == pytest.approx(expected, rel=1e-9)
    network = metrics(third, "network")[0].fields
    total = sum(m.fields["rx_bps"] + m.fields["tx_bps"] for m in metrics(third, "sdn_port"))
    assert network["bandwidth_total_mbps"] == pytest.approx(total / 1e6)
    assert network["active_ports"] == len({(h.dpid, h.port) for h in emulator.hosts.values()}) + len(emulator.links)


async def test_counter_reset_skips_the_interval(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        await harness.collect()
        emulator.advance_counters()
        emulator.advance_counters()
        await harness.collect()
        emulator.reset_counters()
        emulator.advance_counters()
        after_reset = await harness.collect()
        emulator.advance_counters()
        recovered = await harness.collect()
    busy = {(f"{d:016x}", str(p)) for (d, p), info in emulator.ports.items() if info["up"]}
    reset_ports = {(m.tags["switch"], m.tags["port"]) for m in metrics(after_reset, "sdn_port")}
    assert not reset_ports & busy  # no rate across the reset, and certainly no negative one
    assert all(v >= 0 for m in metrics(harness.records, "sdn_port") for v in m.fields.values())
    assert {(m.tags["switch"], m.tags["port"]) for m in metrics(recovered, "sdn_port")} >= busy
    assert harness.monitor.rates.resets >= len(busy)


async def test_topology_changes_become_events(harness: Harness) -> None:
    emulator = harness.emulator
    first, middle, last = (f"{dpid:016x}" for dpid in emulator.dpids)
    with trio.fail_after(10):
        await harness.collect()
        await emulator.step()  # tick 1: traffic only
        tick1 = await harness.collect()
        await emulator.step()  # tick 2: the link between the last two switches goes down
        tick2 = await harness.collect()
        await emulator.step()  # tick 3: a client joins the first switch
        tick3 = await harness.collect()
        await emulator.step()  # tick 4: the link comes back
        tick4 = await harness.collect()
    assert not events(tick1, "TOPOLOGY_SNAPSHOT")
    removed = events(tick2, "LINK_REMOVED")
    assert {(e.details["source"], e.details["target"]) for e in removed} == {(middle, last), (last, middle)}
    assert all(e.level == "WARNING" for e in removed)
    [snapshot2] = events(tick2, "TOPOLOGY_SNAPSHOT")
    assert len(snapshot2.details["links"]) == 2
    [joined] = events(tick3, "NODE_CONNECTED")
    assert joined.details["type"] == "host" and joined.details["dpid"] == first
    assert joined.details["ip"] == "192.168.100.103"
    assert len(events(tick3, "FLOW_SNAPSHOT")) == 1  # the new client's flows
    assert len(events(tick4, "LINK_ADDED")) == 2 and len(events(tick4, "TOPOLOGY_SNAPSHOT")) == 1
    assert metrics(tick4, "network")[0].fields["links_count"] == 4


async def test_down_and_http_500_raise_source_unavailable(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        await harness.collect()
        emulator.set_fault("error")
        with pytest.raises(SourceUnavailable, match="500"):
            await harness.collect()
        emulator.set_fault("down")
        await emulator.wait_stopped()
        with pytest.raises(SourceUnavailable):
            await harness.collect()
        emulator.set_fault(None)
        await emulator.wait_listening()
        await harness.collect()
    assert len(events(harness.records, "TOPOLOGY_SNAPSHOT")) == 1  # nothing changed while it was away


async def test_slow_poll_cut_short_commits_nothing(harness: Harness) -> None:
    emulator = harness.emulator
    with trio.fail_after(10):
        await harness.collect()
        emulator.link_down(emulator.dpids[1], emulator.dpids[2])
        emulator.set_fault("slow", slow_delay=0.3)
        with trio.move_on_after(0.1):  # the core's timeout
            await harness.collect()
        emulator.set_fault(None)
        after = await harness.collect()
    assert len(events(after, "LINK_REMOVED")) == 2  # the change is reported once, by the poll that completed
    assert len(events(harness.records, "TOPOLOGY_SNAPSHOT")) == 2


async def test_malformed_everywhere_raises(harness: Harness) -> None:
    with trio.fail_after(10):
        harness.emulator.set_fault("malformed")
        with pytest.raises(MalformedResponse):
            await harness.collect()
        harness.emulator.set_fault(None)
        await harness.collect()
    assert len(events(harness.records, "TOPOLOGY_SNAPSHOT")) == 1


async def test_one_malformed_endpoint_keeps_the_rest(harness: Harness) -> None:
    path = "/onos/v1/links" if harness.emulator.flavour == "onos" else "/v1.0/topology/links"
    with trio.fail_after(10):
        await harness.collect()
        harness.emulator.break_path(path)
        broken = await harness.collect()
        harness.emulator.break_path(path, broken=False)
        fixed = await harness.collect()
    [error] = events(broken, "MALFORMED_RESPONSE")
    assert error.details["endpoint"] == path and error.level == "ERROR"
    assert harness.monitor.runtime.stats.counters["malformed"] == 1
    network = metrics(broken, "network")[0].fields
    assert network["switches_count"] == 3 and "links_count" not in network
    assert len(metrics(broken, "sdn_flows")) == 3
    # an unknown link list is not an empty one: no LINK_REMOVED, and no change once it is known again
    for kind in ("LINK_REMOVED", "LINK_ADDED", "TOPOLOGY_SNAPSHOT"):
        assert not events(broken, kind) and not events(fixed, kind)


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_per_switch_requests_are_bounded(
    flavour: str, nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    emulator = SdnControllerEmulator(flavour, switches=6)  # type: ignore[arg-type]
    emulator.stats_delay = 0.05
    h = await start(nursery, make_component, emulator, max_concurrent_requests=2)
    with trio.fail_after(10):
        await h.collect()
    assert emulator.max_in_flight == 2
    await h.monitor.close()
    wide = await start(nursery, make_component, emulator, max_concurrent_requests=16)
    emulator.max_in_flight = 0
    with trio.fail_after(10):
        await wide.collect()
    assert emulator.max_in_flight > 2  # per-switch requests really overlap
    await wide.monitor.close()


async def test_onos_wrong_password_is_source_unavailable(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    h = await start(nursery, make_component, SdnControllerEmulator("onos"), password="wrong")
    with trio.fail_after(10), pytest.raises(SourceUnavailable, match="401"):
        await h.collect()
    await h.monitor.close()


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_performance_snapshot(flavour: str, nursery: trio.Nursery, make_component: Callable[..., Any]) -> None:
    h = await start(nursery, make_component, SdnControllerEmulator(flavour))  # type: ignore[arg-type]
    with trio.fail_after(10):
        for _ in range(3):
            h.emulator.advance_counters()
            await h.collect()
    snapshot = events(h.polls[-1], "PERFORMANCE_SNAPSHOT")[0].details
    network = metrics(h.polls[-1], "network")[0].fields
    if flavour == "ryu":  # FLOPY-NET's own document, completed with computed figures
        assert snapshot["source"] == "controller"
        assert network["latency_avg_ms"] == snapshot["latency"]["average_ms"]
    else:  # stock Ryu and ONOS have no such endpoint: everything computed
        assert snapshot["source"] == "computed" and "latency_avg_ms" not in network
        assert snapshot["bandwidth"]["total_mbps"] == pytest.approx(network["bandwidth_total_mbps"])
    assert snapshot["flows"]["total"] == network["flows_total"] == sum(len(f) for f in h.emulator.flows.values())
    await h.monitor.close()


async def test_performance_snapshot_only_when_changed(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    h = await start(nursery, make_component, SdnControllerEmulator("onos"))
    with trio.fail_after(10):
        for _ in range(4):
            await h.collect()
    # poll 1: counters only; poll 2: rates (all zero) appear; polls 3-4: the same document, not repeated
    assert [len(events(p, "PERFORMANCE_SNAPSHOT")) for p in h.polls] == [1, 1, 0, 0]
    await h.monitor.close()
