"""Normalising controller shapes the emulator does not serve: Ryu's own ``rest_topology`` spelling, ``/stats/hosts``
as a dict, older ONOS host locations; and rate arithmetic at its edges."""

from __future__ import annotations

import pytest
from flcollector.plugins.sdn import stats, topology
from flcollector.plugins.sdn.flowmatch import Match, match_of
from flcollector.plugins.sdn.rates import PortRates


def test_rest_topology_hex_spelling_joins_links_to_switches() -> None:
    switches = topology.ryu_switches(
        [
            {
                "dpid": "0000000000000001",
                "ports": [{"dpid": "0000000000000001", "port_no": "00000010", "hw_addr": "aa", "name": "s1-eth16"}],
            }
        ]
    )
    links = topology.ryu_links(
        [
            {
                "src": {"dpid": "0000000000000001", "port_no": "00000010"},
                "dst": {"dpid": "000000000000000a", "port_no": "00000001"},
            }
        ]
    )
    assert switches[0]["ports"][0] == {"port_no": 16, "name": "s1-eth16", "hw_addr": "aa", "state": "unknown"}
    assert links[0]["source"] == switches[0]["id"] and links[0]["target"] == "000000000000000a"
    assert links[0]["id"] == "0000000000000001:16-000000000000000a:1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, "0000000000000001"),
        ("10", "000000000000000a"),
        ("of:00000000000000ff", "00000000000000ff"),
        ("000000000000001A", "000000000000001a"),
        ("netconf:10.0.0.1:830", "netconf:10.0.0.1:830"),
    ],
)
def test_dpid_spellings(raw: object, expected: str) -> None:
    assert topology.dpid_hex(raw) == expected


def test_stats_hosts_dict_and_ipv4_objects() -> None:
    as_dict = topology.ryu_hosts({"00:00:00:00:00:01": [1, 3, "10.0.0.1"]})
    assert as_dict == [
        {
            "id": "00:00:00:00:00:01",
            "mac": "00:00:00:00:00:01",
            "ip": "10.0.0.1",
            "ips": ["10.0.0.1"],
            "dpid": "0000000000000001",
            "port": 3,
            "type": "host",
        }
    ]
    as_list = topology.ryu_hosts([{"mac": "m", "ipv4": [{"address": "10.0.0.9"}], "port": {"dpid": 2, "port_no": 1}}])
    assert as_list[0]["ip"] == "10.0.0.9" and as_list[0]["dpid"] == "0000000000000002"


def test_onos_host_with_old_location_field() -> None:
    [host] = topology.onos_hosts(
        {
            "hosts": [
                {
                    "mac": "AA:BB:CC:DD:EE:FF",
                    "ipAddresses": [],
                    "location": {"elementId": "of:0000000000000003", "port": "2"},
                }
            ]
        }
    )
    assert (host["id"], host["ip"], host["dpid"], host["port"]) == (
        "aa:bb:cc:dd:ee:ff",
        "unknown",
        "0000000000000003",
        2,
    )


def test_bad_shapes_raise_shape_error() -> None:
    with pytest.raises(topology.ShapeError):
        topology.ryu_switches({"not": "a list"})
    with pytest.raises(topology.ShapeError):
        stats.ryu_port_counters({"1": [{"port_no": 1, "rx_bytes": "many"}]}, "1")


def _port(rx_bytes: int, uptime: float) -> dict[str, object]:
    return {"port_no": 1, **dict.fromkeys(stats.COUNTERS, 0), "rx_bytes": rx_bytes, "duration_sec": uptime}


def test_uptime_going_backwards_is_a_reset_even_when_counters_grew() -> None:
    rates = PortRates()
    _, samples, resets = rates.rates("s", 1_000_000_000, [_port(1000, 50.0)])
    rates.commit(samples, ["s"], resets)
    metrics, samples, resets = rates.rates("s", 2_000_000_000, [_port(5000, 0.5)])  # restarted, then busy
    assert metrics == [] and resets == 1
    rates.commit(samples, ["s"], resets)
    metrics, _, _ = rates.rates("s", 3_000_000_000, [_port(6000, 1.5)])
    assert metrics[0].fields["rx_bps"] == pytest.approx(8000.0) and rates.resets == 1


def test_ports_of_departed_switches_are_forgotten() -> None:
    rates = PortRates()
    _, samples, _ = rates.rates("gone", 1, [_port(1, 1.0)])
    rates.commit(samples, ["gone"])
    rates.commit({}, ["other"])
    assert len(rates.counters) == 0


def test_options_reject_a_zero_concurrency() -> None:
    from flcollector.options import OptionError, build_options
    from flcollector.plugins.sdn.options import SdnOptions

    with pytest.raises(OptionError, match="max_concurrent_requests"):
        build_options(SdnOptions, {"max_concurrent_requests": 0})
    with pytest.raises(OptionError, match="'ryu', 'onos'") as info:
        build_options(SdnOptions, {"controller": "odl"})
    assert info.value.key == "controller"


def test_rest_topology_host_ports_are_hex() -> None:
    port = {"dpid": "0000000000000001", "port_no": "00000010", "hw_addr": "aa", "name": "s1-eth16"}
    [host] = topology.ryu_hosts([{"mac": "02:42:C0:A8:64:65", "ipv4": ["192.168.100.101"], "ipv6": [], "port": port}])
    assert (host["mac"], host["port"], host["ip"]) == ("02:42:c0:a8:64:65", 16, "192.168.100.101")


def test_flopynet_flows_group_by_switch_and_say_when_counters_are_missing() -> None:
    match = {"OFPMatch": {"length": 4, "oxm_fields": [], "type": 1}}
    body = {
        "42_0_-1": {"datapath_id": 42, "priority": 0, "match": match, "actions": [], "timestamp": 1.0},
        "42_10_7": {
            "datapath_id": 42,
            "priority": 10,
            "match": match,
            "instructions": [],
            "packet_count": 3,
            "byte_count": 300,
            "duration_sec": 9,
            "table_id": 0,
            "created_time": 2.0,
        },
    }
    flows = stats.flopynet_flows(body)
    assert list(flows) == ["000000000000002a"]
    assert [(f["counted"], f["byte_count"]) for f in flows["000000000000002a"]] == [(False, 0), (True, 300)]
    with pytest.raises(topology.ShapeError):
        stats.flopynet_flows([{"datapath_id": 1}])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (  # FLOPY-NET: OFPMatch.to_jsondict(); a masked field names no host
            {
                "OFPMatch": {
                    "oxm_fields": [
                        {"OXMTlv": {"field": "in_port", "mask": None, "value": 3}},
                        {"OXMTlv": {"field": "eth_dst", "mask": None, "value": "02:42:C0:A8:64:0A"}},
                        {"OXMTlv": {"field": "ipv4_src", "mask": "255.255.255.0", "value": "10.0.0.0"}},
                    ]
                }
            },
            Match(in_port=3, eth_dst="02:42:c0:a8:64:0a"),
        ),
        (  # stock Ryu: ofctl's names; "LOCAL" is no port number
            {"in_port": "LOCAL", "dl_src": "aa:bb:cc:dd:ee:ff", "nw_dst": "10.0.0.2", "nw_proto": 6, "tp_dst": 8080},
            Match(eth_src="aa:bb:cc:dd:ee:ff", ipv4_dst="10.0.0.2", ip_proto=6, l4_dst=8080),
        ),
        (  # ONOS: selector criteria
            [
                {"type": "IN_PORT", "port": 2},
                {"type": "IPV4_SRC", "ip": "192.168.100.101/32"},
                {"type": "IPV4_DST", "ip": "192.168.100.0/24"},
                {"type": "TCP_SRC", "tcpPort": 8081},
                {"type": "ETH_TYPE", "ethType": "0x800"},
            ],
            Match(in_port=2, ipv4_src="192.168.100.101", l4_src=8081),
        ),
        ("OFPMatch(oxm_fields={})", Match()),  # Ryu could not serialise it: nothing readable
    ],
)
def test_flow_matches_in_every_spelling(raw: object, expected: Match) -> None:
    assert match_of(raw) == expected
