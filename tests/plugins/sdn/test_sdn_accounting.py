"""When a flow entry's counters count in full: installed since the last poll, told by the flow tables' own answers.

These drive :class:`TrafficAccounting` directly with the tables a controller answers, so the times are exact; the
monitor tests (``test_sdn_traffic.py``) run the same accounting against the emulated controller.
"""

from __future__ import annotations

from typing import Any

from flcollector.plugins.sdn.accounting import HostTable, TrafficAccounting
from flcollector.plugins.sdn.options import SdnOptions
from flcollector.plugins.sdn.traffic import built_in_rules

SERVER, CLIENT = "192.168.100.10", "192.168.100.101"
HOSTS = HostTable(
    [
        {"mac": "00:00:00:00:00:0a", "ips": [SERVER], "dpid": "0000000000000001", "port": 1},
        {"mac": "00:00:00:00:01:01", "ips": [CLIENT], "dpid": "0000000000000001", "port": 2},
    ],
    [],
    key="one switch",
)
S = 10**9


def flow(flow_id: str, byte_count: int, age_s: float, counted: bool = True) -> dict[str, Any]:
    """A client-to-server entry as the monitor normalises it (``counted`` False: listed without counters)."""
    return {
        "flow_id": flow_id,
        "match": {"eth_type": 0x0800, "ipv4_src": CLIENT, "ipv4_dst": SERVER},
        "byte_count": byte_count if counted else 0,
        "packet_count": byte_count // 1000 if counted else 0,
        "duration_sec": age_s if counted else 0,
        "counted": counted,
    }


def accounting() -> TrafficAccounting:
    options = SdnOptions()
    return TrafficAccounting(built_in_rules(options), options.fl_server_addresses)


def poll(acc: TrafficAccounting, flows: list[dict[str, Any]], at_s: float, answered_s: float) -> int:
    """Account one poll (committed); the bytes the client sent the FL server in its interval."""
    records, commit = acc.account({"0000000000000001": flows}, HOSTS, int(at_s * S), int(answered_s * S))
    commit()
    return sum(m.fields["bytes_to_server"] for m in records if m.name == "sdn_fl_peer")


def test_a_flow_installed_right_after_a_poll_counts_in_full_when_this_tables_answer_came_late() -> None:
    """The snapshot's time is when the port counters answered, before the flow table's own answer: the last poll's
    table answered 1 ms after its ports, this one 10 ms after. A flow installed 1 ms after the last table read is
    58 ms old when this table answers, more than the 50 ms between the snapshots: it was judged as older than the
    last poll, and its bytes were lost."""
    acc = accounting()
    poll(acc, [flow("old", 5_000, age_s=9.0)], at_s=100.000, answered_s=100.001)
    moved = poll(acc, [flow("old", 5_000, 9.06), flow("new", 100_000, age_s=0.058)], at_s=100.050, answered_s=100.060)
    assert moved == 100_000


def test_a_flow_listed_before_the_last_poll_is_only_a_baseline() -> None:
    acc = accounting()
    poll(acc, [], at_s=100.000, answered_s=100.001)
    # 61 ms old at 100.060: installed at 99.999, before the last table answered; it was missed then, not new now
    assert poll(acc, [flow("new", 100_000, age_s=0.061)], at_s=100.050, answered_s=100.060) == 0


def test_a_flow_listed_without_counters_counts_its_first_stats_period_when_they_come() -> None:
    """FLOPY-NET's entries have no counters until its stats loop reads them, seconds later: the traffic of that
    first period is in the first counters. An entry there when the agent began is older than what it knows."""
    acc = accounting()
    poll(acc, [flow("before us", 0, 0, counted=False)], at_s=100.0, answered_s=100.0)
    listed = [flow("before us", 0, 0, counted=False), flow("new", 0, 0, counted=False)]
    poll(acc, listed, at_s=101.0, answered_s=101.0)  # "new" installed between the two polls
    poll(acc, listed, at_s=102.0, answered_s=102.0)  # still no counters
    counted = [flow("before us", 70_000, age_s=40.0), flow("new", 300_000, age_s=2.5)]
    assert poll(acc, counted, at_s=103.0, answered_s=103.0) == 300_000  # "before us" is a baseline: its start unknown
    later = [flow("before us", 80_000, age_s=41.0), flow("new", 400_000, age_s=3.5)]
    assert poll(acc, later, at_s=104.0, answered_s=104.0) == 110_000  # then both count what moved
