"""Ryu's two APIs: FLOPY-NET's controller gets 16-hex DPIDs and one ``/stats/flows`` request, stock ``ofctl_rest``
decimal DPIDs and a flow request per switch; the monitor tells them apart once and again when the controller
changes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trio
from flcollector import SourceUnavailable
from flcollector.emulators.sdn_controller import SdnControllerEmulator
from sdn_helpers import Harness, events, metrics, start


@pytest.fixture
async def flopynet(nursery: trio.Nursery, make_component: Callable[..., Any]) -> AsyncIterator[Harness]:
    """The monitor polling an emulation of FLOPY-NET's controller."""
    h = await start(nursery, make_component, SdnControllerEmulator("ryu"))
    yield h
    await h.monitor.close()


async def test_flopynet_counters_and_flows_reach_the_monitor(flopynet: Harness) -> None:
    """The defect: a decimal DPID names another switch on FLOPY-NET's controller, so ports and flows were empty."""
    h, emulator = flopynet, flopynet.emulator
    with trio.fail_after(10):
        for _ in range(3):
            emulator.advance_counters()
            last = await h.collect()
    ports = metrics(last, "sdn_port")
    assert len(ports) == len(emulator.counters)
    busy = {(f"{h.dpid:016x}", str(h.port)) for h in emulator.hosts.values()}
    assert all(m.fields["rx_bps"] > 0 for m in ports if (m.tags["switch"], m.tags["port"]) in busy)
    for metric in metrics(last, "sdn_flows"):
        flows = emulator.flows[int(metric.tags["switch"], 16)]
        assert metric.fields["flows"] == len(flows) > 0
        assert metric.fields["bytes"] == sum(f.byte_count for f in flows) > 0
    assert not events(h.records, "MALFORMED_RESPONSE") and h.monitor.source.api == "flopynet"
    requested = emulator.requested
    assert all(requested[f"/stats/port/{dpid:016x}"] == 3 for dpid in emulator.dpids)
    assert requested["/stats/flows"] == 3 * 2  # one request for every flow, before and after the port counters
    assert not any(path.startswith(("/stats/flowentry/", "/stats/flow/")) for path in requested)


async def test_stock_ryu_gets_decimal_dpids_and_is_detected_once(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    emulator = SdnControllerEmulator("ofctl")
    h = await start(nursery, make_component, emulator)
    with trio.fail_after(10):
        for _ in range(3):
            emulator.advance_counters()
            last = await h.collect()
    assert h.monitor.source.api == "ofctl_rest" and h.monitor.source.detections == 1
    assert emulator.requested["/stats/flows"] == 1  # asked once: its 404 says "stock Ryu"
    for dpid in emulator.dpids:
        assert emulator.requested[f"/stats/port/{dpid}"] == emulator.requested[f"/stats/flow/{dpid}"] == 3
    assert len(metrics(last, "sdn_port")) == len(emulator.counters)
    assert [m.fields["flows"] for m in metrics(last, "sdn_flows")] == [len(emulator.flows[d]) for d in emulator.dpids]
    await h.monitor.close()


@pytest.mark.parametrize("topology_app", ["rest_topology", "policy_switch"])
async def test_both_spellings_of_flopynets_topology(
    topology_app: str, nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    """``rest_topology`` answers ``/v1.0/topology/*`` on FLOPY-NET (it is mapped first); were ``policy_switch``'s
    own routes mapped first, links would carry int DPIDs and ports int numbers: both give the same topology."""
    emulator = SdnControllerEmulator("ryu", topology_app=topology_app)  # type: ignore[arg-type]
    h = await start(nursery, make_component, emulator)
    with trio.fail_after(10):
        [snapshot] = events(await h.collect(), "TOPOLOGY_SNAPSHOT")
    expected = {(f"{a:016x}", pa, f"{b:016x}", pb) for a, pa, b, pb in emulator.links}
    got = snapshot.details["links"]
    assert {(x["source"], x["source_port"], x["target"], x["target_port"]) for x in got} == expected
    hosts = {(x["mac"], x["port"]) for x in snapshot.details["hosts"]}
    assert hosts == {(mac, host.port) for mac, host in emulator.hosts.items()}
    await h.monitor.close()


@pytest.mark.parametrize(("before", "after"), [("ryu", "ofctl"), ("ofctl", "ryu")])
async def test_a_restarted_controller_of_another_kind_is_detected_again(
    before: str, after: str, nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    emulator = SdnControllerEmulator(before)  # type: ignore[arg-type]
    h = await start(nursery, make_component, emulator)
    with trio.fail_after(10):
        await h.collect()
        emulator.restart_controller(after)  # type: ignore[arg-type]
        emulator.advance_counters()
        await h.collect()
        emulator.advance_counters()
        await h.collect()
        emulator.advance_counters()
        last = await h.collect()
    assert h.monitor.source.api == ("flopynet" if after == "ryu" else "ofctl_rest")
    assert h.monitor.source.detections == 2
    assert len(metrics(last, "sdn_port")) == len(emulator.counters) and len(metrics(last, "sdn_flows")) == 3
    await h.monitor.close()


async def test_detection_is_forgotten_when_the_controller_goes_away_or_restarts(flopynet: Harness) -> None:
    """It failed once in a loaded run: the controller had been up for only the test's first fraction of a second, so
    when the machine stalled for longer than that between the restart and the next poll, the uptime read after the
    restart was no lower than before and the restart went unseen. A real controller has been up a while."""
    h, emulator = flopynet, flopynet.emulator
    emulator.started -= 3600
    with trio.fail_after(10):
        await h.collect()
        emulator.set_fault("down")
        await emulator.wait_stopped()
        with pytest.raises(SourceUnavailable):
            await h.collect()
        assert h.monitor.source.api is None
        emulator.set_fault(None)
        await emulator.wait_listening()
        await h.collect()
        assert h.monitor.source.api == "flopynet"
        emulator.restart_controller()  # same kind: only its uptime tells
        await h.collect()
        assert h.monitor.source.api is None
        await h.collect()
    assert h.monitor.source.api == "flopynet"


async def test_a_restart_is_seen_even_when_the_next_poll_reads_a_higher_uptime(flopynet: Harness) -> None:
    """The controller had been up 0.3 s at the last poll; a second later it has restarted and been up 0.5 s: its
    uptime reads higher than before. Only the start time it implies tells the restart (it moved 0.8 s later)."""
    h, emulator = flopynet, flopynet.emulator
    with trio.fail_after(10):
        emulator.started = time.time() - 0.3
        await h.collect()
        assert h.monitor.source.api == "flopynet"
        await trio.sleep(1.0)  # the scenario is time passing between two polls, not an event to wait for
        emulator.restart_controller()
        emulator.started = time.time() - 0.5
        await h.collect()
        assert h.monitor.source.api is None
        await h.collect()
    assert h.monitor.source.api == "flopynet"


async def test_a_malformed_flow_table_is_an_error_event_not_a_crash(flopynet: Harness) -> None:
    h, emulator = flopynet, flopynet.emulator
    with trio.fail_after(10):
        await h.collect()
        emulator.break_path("/stats/flows")
        emulator.advance_counters()
        broken = await h.collect()
    [error] = events(broken, "MALFORMED_RESPONSE")
    assert error.details["endpoint"] == "/stats/flows" and h.monitor.runtime.stats.counters["malformed"] == 1
    assert not metrics(broken, "sdn_flows") and not metrics(broken, "sdn_traffic")  # unknown, not empty
    assert len(metrics(broken, "sdn_port")) == len(emulator.counters)  # the rest of the poll is kept
