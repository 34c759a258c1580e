"""The SDN-controller emulator answers as FLOPY-NET's Ryu controller, stock Ryu and ONOS do (parsing, keys, value
types, error answers), and its traffic is self-consistent: flow counters add up to the port counters they cross."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio
from flcollector.emulators.sdn_controller import SdnControllerEmulator

HEX, DECIMAL = "00002696755c7301", str(0x00002696755C7301)  # the first switch, both spellings
WEBOB_HTML_404 = (
    "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n"
    "  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>"
)


@pytest.fixture
async def serve(nursery: trio.Nursery) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def start(emulator: SdnControllerEmulator) -> httpx.AsyncClient:
        url = await nursery.start(emulator.serve)
        clients.append(httpx.AsyncClient(base_url=url, auth=("onos", "rocks")))
        return clients[-1]

    yield start
    for client in clients:
        await client.aclose()


async def test_flopynet_reads_an_all_hex_dpid_as_hex_and_echoes_the_key(serve) -> None:
    emulator = SdnControllerEmulator("ryu")
    emulator.advance_counters()
    client = await serve(emulator)
    with trio.fail_after(10):
        by_hex = await client.get(f"/stats/port/{HEX}")
        by_prefixed = await client.get(f"/stats/port/0x{HEX}")
        by_decimal = await client.get(f"/stats/port/{DECIMAL}")  # all digits: read as hex, another switch
        garbage = await client.get("/stats/port/s1")
        entries = await client.get(f"/stats/flowentry/{HEX}")
        no_switch = await client.get(f"/stats/flowentry/{DECIMAL}")
        everything = await client.get("/stats/flows")
    assert list(by_hex.json()) == [HEX] and list(by_prefixed.json()) == [f"0x{HEX}"]
    ports = by_hex.json()[HEX]
    assert [p["port_no"] for p in ports] == emulator.switch_ports(0x00002696755C7301)
    assert ports[0]["rx_bytes"] == emulator.counters[(0x00002696755C7301, 1)]["rx_bytes"] > 0
    assert {"rx_bps", "tx_bps", "duration_sec", "duration_nsec", "collisions"} <= set(ports[0])
    assert (by_decimal.status_code, by_decimal.json()) == (404, {"error": f"Switch {DECIMAL} not found"})
    assert garbage.status_code == 400
    assert garbage.json() == {"error": "Invalid DPID format: invalid literal for int() with base 10: 's1'"}
    assert list(entries.json()) == [DECIMAL]  # this one keys by the decimal DPID
    assert {e["datapath_id"] for e in entries.json()[DECIMAL]} == {0x00002696755C7301}
    assert no_switch.status_code == 200 and no_switch.json() == {str(int(DECIMAL, 16)): []}
    flows = everything.json()
    assert len(flows) == sum(len(f) for f in emulator.flows.values())
    assert all(key.startswith(f"{v['datapath_id']}_{v['priority']}_") for key, v in flows.items())
    assert all(isinstance(v["datapath_id"], int) and "OFPMatch" in v["match"] for v in flows.values())


async def test_flopynet_topology_comes_from_rest_topology(serve) -> None:
    client = await serve(SdnControllerEmulator("ryu"))
    own = await serve(SdnControllerEmulator("ryu", topology_app="policy_switch"))
    with trio.fail_after(10):
        switches = (await client.get("/v1.0/topology/switches")).json()
        links = (await client.get("/v1.0/topology/links")).json()
        hosts = (await client.get("/v1.0/topology/hosts")).json()
        one = (await client.get(f"/v1.0/topology/switches/{HEX}")).json()
        not_a_dpid = await client.get(f"/v1.0/topology/switches/{DECIMAL}")
        own_links = (await own.get("/v1.0/topology/links")).json()
        stats_links = (await client.get("/stats/links")).json()
        stats_switches = (await client.get("/stats/switches")).json()
    assert [s["dpid"] for s in switches] == [HEX, "00002696755c7302", "00002696755c7303"]
    port = {"dpid": HEX, "port_no": "00000001", "hw_addr": "02:00:00:00:01:01", "name": "s1-eth1"}
    assert switches[0]["ports"][0] == port  # no state: Ryu's topology Port.to_dict has none
    assert links[0]["src"]["dpid"] == HEX and links[0]["src"]["port_no"] == "00000005" and len(links) == 4
    assert hosts[0]["ipv4"] == ["192.168.100.10"] and hosts[0]["port"]["port_no"] == "00000001" and len(hosts) == 6
    assert one == switches[:1] and not_a_dpid.status_code == 404
    # PolicySwitchRESTController's own spelling (served as /stats/*, and as /v1.0/* if it were mapped first)
    assert own_links == stats_links and stats_links[0]["src"] == {"dpid": 0x00002696755C7301, "port_no": 5}
    assert stats_switches[0]["ports"][0] == {"port_no": 1, "hw_addr": "02:00:00:00:01:01", "name": "s1-eth1"}


@pytest.mark.parametrize(
    ("accept", "kind", "body"),
    [
        ("*/*", "text/html", WEBOB_HTML_404),
        ("application/json", "application/json", None),
        ("text/plain", "text/plain", "404 Not Found\n\nThe resource could not be found.\n\n   "),
    ],
)
async def test_ryu_answers_unknown_paths_as_webob_does(serve, accept: str, kind: str, body: str | None) -> None:
    client = await serve(SdnControllerEmulator("ryu"))
    with trio.fail_after(10):
        missing = await client.get(f"/stats/flow/{DECIMAL}", headers={"accept": accept})  # no such FLOPY-NET route
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(kind)
    if body is None:
        assert missing.json()["code"] == "404 Not Found"
    else:
        assert missing.text == body


async def test_stock_ofctl_rest_takes_decimal_dpids(serve) -> None:
    emulator = SdnControllerEmulator("ofctl")
    emulator.advance_counters()
    client = await serve(emulator)
    with trio.fail_after(10):
        ports = await client.get(f"/stats/port/{DECIMAL}")
        hex_spelled = await client.get(f"/stats/port/{HEX}")  # int(x, 0): leading zeros are not a number
        unknown = await client.get("/stats/port/7")
        flows = await client.get(f"/stats/flow/{DECIMAL}")
        no_bulk = await client.get("/stats/flows")
        dpids = (await client.get("/stats/switches")).json()
    assert list(ports.json()) == [DECIMAL] and ports.json()[DECIMAL][0]["port_no"] == 1
    assert (hex_spelled.status_code, hex_spelled.content) == (400, b"")
    assert (unknown.status_code, unknown.content) == (404, b"")
    items = flows.json()[DECIMAL]
    learned = [f for f in items if f["priority"] == 1]
    assert learned and {"in_port", "dl_src", "dl_dst"} == set(learned[0]["match"])
    assert learned[0]["actions"][0].startswith("OUTPUT:") and items[0]["actions"] == ["OUTPUT:CONTROLLER"]
    assert no_bulk.status_code == 404 and dpids == sorted(emulator.dpids)


@pytest.mark.parametrize("flavour", ["ryu", "ofctl", "onos"])
async def test_every_byte_a_switch_receives_hits_one_flow(flavour: str) -> None:
    emulator = SdnControllerEmulator(flavour)  # type: ignore[arg-type]
    for _ in range(6):
        await emulator.step()  # link down and up again, a client joins
    for dpid in emulator.dpids:
        received = sum(emulator.counters[(dpid, port)]["rx_bytes"] for port in emulator.switch_ports(dpid))
        assert sum(f.byte_count for f in emulator.flows[dpid]) == received > 0
    server = next(h for h in emulator.hosts.values() if h.role == "fl-server")
    client = next(h for h in emulator.hosts.values() if h.role == "client-1")
    sent = emulator.counters[(client.dpid, client.port)]["rx_bytes"]
    to_server = sum(c.bytes_per_tick for c in emulator.conversations if (c.src, c.dst) == (client.mac, server.mac))
    assert to_server * 6 <= sent < to_server * 6 * 1.02  # the client's port: its update, plus checks and ARP


async def test_onos_shapes_and_auth(serve) -> None:
    emulator = SdnControllerEmulator("onos", switches=2)
    emulator.advance_counters()
    client = await serve(emulator)
    with trio.fail_after(10):
        refused = await client.get("/onos/v1/devices", auth=("onos", "nope"))
        devices = (await client.get("/onos/v1/devices")).json()["devices"]
        ports = (await client.get(f"/onos/v1/devices/of:{HEX}/ports")).json()["ports"]
        missing = await client.get("/onos/v1/devices/of:00000000000000ff/ports")
        links = (await client.get("/onos/v1/links")).json()["links"]
        hosts = (await client.get("/onos/v1/hosts")).json()["hosts"]
        flows = (await client.get("/onos/v1/flows")).json()["flows"]
        statistics = (await client.get("/onos/v1/statistics/ports")).json()["statistics"]
    assert refused.status_code == 401 and refused.json() == {"code": 401, "message": "Unauthorized"}
    assert missing.json() == {"code": 404, "message": "Device is not found"}
    assert [d["id"] for d in devices] == [f"of:{HEX}", "of:00002696755c7302"]
    assert ports[0]["port"] == "local" and ports[1]["annotations"]["portName"] == "s1-eth1"
    assert links[0]["src"] == {"port": "5", "device": f"of:{HEX}"} and links[0]["dst"]["port"] == "4"
    assert hosts[0]["locations"] == [{"elementId": f"of:{HEX}", "port": "1"}] and hosts[0]["mac"].isupper()
    learned = [f for f in flows if f["appId"] == "org.onosproject.fwd"]
    assert learned and {c["type"] for c in learned[0]["selector"]["criteria"]} == {"IN_PORT", "ETH_SRC", "ETH_DST"}
    assert isinstance(statistics[0]["ports"][0]["port"], int) and statistics[0]["ports"][0]["bytesReceived"] > 0


async def test_scenario_and_counter_reset() -> None:
    emulator = SdnControllerEmulator("ryu")
    first, middle, last = emulator.dpids
    await emulator.step()
    assert emulator.counters[(middle, 1)]["rx_bytes"] > 0 and emulator.counters[(first, 3)]["rx_bytes"] == 0
    await emulator.step()
    assert len(emulator.links) == 2 and not emulator.ports[(last, 4)]["up"]
    await emulator.step()
    joined = [h for h in emulator.hosts.values() if h.role == "client-3"]
    assert len(emulator.hosts) == 7 and joined[0].dpid == first and joined[0].port == 3
    await emulator.step()
    assert len(emulator.links) == 4
    emulator.reset_counters()
    assert all(v == 0 for c in emulator.counters.values() for v in c.values())
    assert all(f.byte_count == 0 and not f.stats_seen for fs in emulator.flows.values() for f in fs)


async def test_controller_restart_changes_keys_and_may_change_the_api(serve) -> None:
    emulator = SdnControllerEmulator("ryu")
    emulator.advance_counters()
    client = await serve(emulator)
    with trio.fail_after(10):
        before = (await client.get("/stats/flows")).json()
        emulator.restart_controller()
        after = (await client.get("/stats/flows")).json()
        emulator.restart_controller("ofctl")
        stock = await client.get(f"/stats/port/{DECIMAL}")
        gone = await client.get("/stats/flows")
    assert len(before) == len(after) and not set(before) & set(after)  # Python's string hash is salted per process
    learned = [v for v in after.values() if v["priority"] == 20]
    assert learned and all("instructions" in v and "created_time" in v for v in learned)  # met in stats replies
    defaults = [v for v in after.values() if v["priority"] == 0]
    assert defaults and all("actions" in v and "packet_count" not in v for v in defaults)  # installed again
    assert stock.status_code == 200 and gone.status_code == 404
