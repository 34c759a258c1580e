"""FL traffic from flow counters: classes and their shares, the rule that matched, bytes between the FL server and
each peer per direction, counter resets, flows born between polls, controller restarts, and the rules' options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
from flcollector import now_ns
from flcollector.emulators.sdn_controller import SdnControllerEmulator
from flcollector.options import OptionError, build_options
from flcollector.plugins.sdn.options import SdnOptions
from sdn_helpers import FLAVOURS, Harness, host_rx, metrics, start
from starlette.routing import BaseRoute, Mount
from starlette.types import Message, Receive, Scope, Send

CONTROL_ROLES = {"collector", "policy-engine"}


def expected_classes(emulator: SdnControllerEmulator, ticks: int) -> dict[str, int]:
    """What the default rules make of one tick of the emulator's conversations, times ``ticks``."""
    classes = dict.fromkeys(("fl", "control", "background"), 0)
    for talk in emulator.conversations:
        roles = {emulator.hosts[talk.src].role, emulator.hosts[talk.dst].role}
        kind = "control" if roles & CONTROL_ROLES else "fl" if "fl-server" in roles else "background"
        classes[kind] += talk.bytes_per_tick * ticks
    classes["background"] += 60 * len(emulator.hosts) * ticks  # ARP broadcasts, punted by the table-miss entry
    return classes


async def _warm(h: Harness, ticks: int = 1) -> None:
    """A first poll, ``ticks`` ticks of traffic (the learned flows appear), a second poll: baselines everywhere."""
    await h.collect()
    for _ in range(ticks):
        h.emulator.advance_counters()
    await h.collect()


async def _interval(h: Harness, ticks: int = 2) -> tuple[list[Any], dict[str, int]]:
    """Poll, move ``ticks`` ticks of traffic, poll again; return the second poll and the bytes each host sent."""
    await h.collect()
    before = host_rx(h.emulator)
    for _ in range(ticks):
        h.emulator.advance_counters()
    records = await h.collect()
    after = host_rx(h.emulator)
    return records, {role: after[role] - before[role] for role in after}


async def test_classes_and_shares_add_up_to_what_hosts_sent(harness: Harness) -> None:
    h, emulator = harness, harness.emulator
    with trio.fail_after(10):
        await _warm(h)
        records, sent = await _interval(h)
    [traffic] = metrics(records, "sdn_traffic")
    fields = traffic.fields
    assert {k: fields[f"{k}_bytes"] for k in ("fl", "control", "background")} == expected_classes(emulator, 2)
    assert fields["fl_bytes"] + fields["control_bytes"] + fields["background_bytes"] == fields["total_bytes"]
    assert fields["total_bytes"] == sum(sent.values())  # each packet once, where it entered the network
    assert fields["fl_percent"] + fields["control_percent"] + fields["background_percent"] == pytest.approx(100.0)
    assert fields["fl_percent"] > 50 and fields["transit_bytes"] > 0 and fields["counter_resets"] == 0
    rules = {(m.tags["rule"], m.tags["class"]): m.fields for m in metrics(records, "sdn_traffic_rule")}
    assert {"fl_server", "collector", "policy_engine", "default"} <= {rule for rule, _ in rules}
    assert rules["fl_server", "fl"]["bytes"] == fields["fl_bytes"]
    assert sum(r["bytes"] for r in rules.values()) == fields["total_bytes"]


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_each_clients_bytes_with_the_fl_server_match_its_port_counters(
    flavour: str, nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    emulator = SdnControllerEmulator(flavour, switches=4, background=False)  # type: ignore[arg-type]
    h = await start(nursery, make_component, emulator)
    clients = [host for host in emulator.hosts.values() if host.role.startswith("client-")]
    with trio.fail_after(10):
        await _warm(h)
        before = {c.ip: dict(emulator.counters[(c.dpid, c.port)]) for c in clients}
        for _ in range(3):
            emulator.advance_counters()
        records = await h.collect()
    peers = {m.tags["peer"]: m.fields for m in metrics(records, "sdn_fl_peer")}
    assert set(peers) >= {c.ip for c in clients} and "192.168.100.10" not in peers
    for client in clients:
        port = emulator.counters[(client.dpid, client.port)]
        moved = sum(port[k] - before[client.ip][k] for k in ("rx_bytes", "tx_bytes"))
        fields = peers[client.ip]
        with_server = fields["bytes_to_server"] + fields["bytes_from_server"]
        assert with_server == pytest.approx(moved, rel=0.02)  # the rest: the client's policy checks and ARP
        update = next(t.bytes_per_tick for t in emulator.conversations if t.src == client.mac and t.dst.endswith("0a"))
        assert fields["bytes_to_server"] == 3 * update and fields["bytes_from_server"] == 3 * 300_000
        assert fields["packets_to_server"] > 0 and fields["interval_s"] > 0
    await h.monitor.close()


class RefreshRightAfterAFlowTable(SdnControllerEmulator):
    """A controller whose stats loop refreshes every counter (a tick of traffic) as soon as a flow table answer is
    ready, before the monitor has it, while :attr:`armed`: between that read and the port counters' reads."""

    def __init__(self, flavour: str) -> None:
        super().__init__(flavour)  # type: ignore[arg-type]
        self.flow_table = "/onos/v1/flows" if flavour == "onos" else "/stats/flows"
        self.armed = False
        self.refreshes = 0

    def routes(self) -> list[BaseRoute]:
        [mount] = super().routes()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            async def answer(message: Message) -> None:
                if message["type"] == "http.response.start" and scope["path"] == self.flow_table and self.armed:
                    self.armed = False
                    self.refreshes += 1
                    self.advance_counters()  # the body holds the counters as they were
                await send(message)

            await mount.app(scope, receive, answer)

        return [Mount("", app=app)]


async def test_the_first_polls_flows_are_one_snapshot_with_its_port_counters(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    """The first poll's ``/stats/flows`` tells FLOPY-NET's API a round of requests before the port counters are
    asked. Taken alone as the flows' baseline, traffic moving in between was in the ports' baseline and not in the
    flows': the next interval counted it in the flows only (in the demo a tick, 8-15 % of a client's bytes)."""
    emulator = RefreshRightAfterAFlowTable("ryu")
    emulator.armed = True
    h = await start(nursery, make_component, emulator)
    with trio.fail_after(10):
        await h.collect()
        assert emulator.refreshes == 1 and h.monitor.source.api == "flopynet"
        before = host_rx(emulator)
        emulator.advance_counters()
        records = await h.collect()
    sent = {role: rx - before[role] for role, rx in host_rx(emulator).items()}
    [traffic] = metrics(records, "sdn_traffic")
    assert traffic.fields["total_bytes"] == sum(sent.values())  # one tick, in the flows as in the ports
    peers = {m.tags["peer"]: m.fields for m in metrics(records, "sdn_fl_peer")}
    for client in (host for host in emulator.hosts.values() if host.role.startswith("client-")):
        update = next(t.bytes_per_tick for t in emulator.conversations if t.src == client.mac and t.dst.endswith("0a"))
        assert peers[client.ip]["bytes_to_server"] == update
    await h.monitor.close()


@pytest.mark.parametrize("flavour", ["ryu", "onos"])
async def test_a_refresh_between_the_flows_and_the_port_counters_is_read_again(
    flavour: str, nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    """FLOPY-NET and ONOS answer from their stats loop's last refresh. One landing between the flow table's read and
    the (slow) port counters' put a tick in the ports of this interval and in the flows of the next: a client's
    bytes and its port's were a tick apart in a round. The flow table is read after the port counters until it
    reads as before them: one snapshot, timed when the port counters answered, not by the end of the poll."""
    emulator = RefreshRightAfterAFlowTable(flavour)
    h = await start(nursery, make_component, emulator)
    with trio.fail_after(10):
        await _warm(h)
        before = host_rx(emulator)
        emulator.advance_counters()
        emulator.armed, emulator.stats_delay = True, 0.2
        records = await h.collect()
        ended = now_ns()
    assert emulator.refreshes == 1
    sent = {role: rx - before[role] for role, rx in host_rx(emulator).items()}
    [traffic] = metrics(records, "sdn_traffic")
    assert traffic.fields["total_bytes"] == sum(sent.values())  # both ticks, in the flows as in the ports
    ports = metrics(records, "sdn_port")
    hosts = {(f"{host.dpid:016x}", str(host.port)): sent[host.role] for host in emulator.hosts.values()}
    received = {(m.tags["switch"], m.tags["port"]): m.fields["rx_bps"] * m.fields["interval_s"] / 8 for m in ports}
    assert {key: received[key] for key in hosts} == pytest.approx(hosts)
    assert traffic.time_ns == max(m.time_ns for m in ports) < ended  # when the port counters answered
    assert {m.time_ns for m in metrics(records, "sdn_fl_peer")} == {traffic.time_ns}
    await h.monitor.close()


async def test_counter_reset_counts_what_moved_since(harness: Harness) -> None:
    h, emulator = harness, harness.emulator
    with trio.fail_after(10):
        await _warm(h, ticks=3)
        emulator.reset_counters()  # the switches restart: every counter starts again
        emulator.advance_counters()
        records = await h.collect()
    [traffic] = metrics(records, "sdn_traffic")
    assert traffic.fields["total_bytes"] == sum(host_rx(emulator).values())  # since the reset: the counters' values
    assert traffic.fields["counter_resets"] > 0 and h.monitor.traffic.resets == traffic.fields["counter_resets"]
    assert all(v >= 0 for m in metrics(records, "sdn_fl_peer") for v in m.fields.values())


async def test_a_client_joining_between_polls_counts_in_full(harness: Harness) -> None:
    h, emulator = harness, harness.emulator
    with trio.fail_after(10):
        await _warm(h)
        joined = emulator.hosts[emulator.add_client()]
        emulator.advance_counters()  # its flow entries are installed now, and count one tick
        records = await h.collect()
    peers = {m.tags["peer"]: m.fields for m in metrics(records, "sdn_fl_peer")}
    assert peers[joined.ip]["bytes_to_server"] == 100_000 and peers[joined.ip]["bytes_from_server"] == 300_000


async def test_a_flopynet_restart_neither_loses_nor_doubles_bytes(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    """After a restart FLOPY-NET's flow keys change and its own entries show no counters until its next stats
    reply: the flows keep their identity (what they match), and what the missing counters held is counted later."""
    emulator = SdnControllerEmulator("ryu")
    h = await start(nursery, make_component, emulator)
    with trio.fail_after(10):
        await _warm(h)
        before = sum(host_rx(emulator).values())
        emulator.restart_controller()
        emulator.advance_counters()
        during = await h.collect()
        emulator.advance_counters()
        after = await h.collect()
    counted = sum(m.fields["total_bytes"] for m in metrics(during + after, "sdn_traffic"))
    assert counted == sum(host_rx(emulator).values()) - before
    assert all(m.fields["counter_resets"] == 0 for m in metrics(during + after, "sdn_traffic"))
    await h.monitor.close()


async def test_operator_rules_come_first_and_are_named(
    nursery: trio.Nursery, make_component: Callable[..., Any]
) -> None:
    rule = {"name": "dataset_download", "class": "fl", "addresses": ["192.168.100.1"]}
    emulator = SdnControllerEmulator("ofctl")
    h = await start(nursery, make_component, emulator, traffic_rules=[rule], collector_addresses=[])
    with trio.fail_after(10):
        await _warm(h)
        records, _ = await _interval(h)
    rules = {(m.tags["rule"], m.tags["class"]) for m in metrics(records, "sdn_traffic_rule")}
    assert ("dataset_download", "fl") in rules and ("collector", "control") not in rules
    # the collector polls the FL server's metrics API: without its address, that traffic is the FL server's
    assert ("fl_server", "fl") in rules
    await h.monitor.close()


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([{"name": "x", "class": "bulk"}], "'class' must be one of fl, control, background"),
        ([{"name": "x", "class": "fl", "hosts": []}], "unknown key 'hosts'"),
        ([{"class": "fl"}], "'name' must be a non-empty string"),
        ([{"name": "x", "class": "fl", "ports": ["8080"]}], "'ports' must be a list of integers"),
    ],
)
def test_bad_rules_are_config_errors_naming_the_rule(rules: list[dict], problem: str) -> None:
    with pytest.raises(OptionError, match="traffic_rules") as info:
        build_options(SdnOptions, {"traffic_rules": rules})
    assert info.value.key == "traffic_rules" and problem in info.value.message
