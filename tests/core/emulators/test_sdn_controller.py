"""The SDN-controller emulator serves Ryu's and ONOS's shapes, and its scenario and faults behave as documented."""

from __future__ import annotations

import httpx
import trio
from flcollector.emulators.sdn_controller import SdnControllerEmulator


async def test_ryu_shapes(nursery: trio.Nursery) -> None:
    emulator = SdnControllerEmulator("ryu")
    url = await nursery.start(emulator.serve)
    emulator.advance_counters()
    async with httpx.AsyncClient(base_url=url) as client:
        with trio.fail_after(10):
            switches = (await client.get("/v1.0/topology/switches")).json()
            links = (await client.get("/v1.0/topology/links")).json()
            hosts = (await client.get("/v1.0/topology/hosts")).json()
            by_hex = (await client.get("/stats/port/0000000000000002")).json()
            by_decimal = (await client.get("/stats/port/2")).json()
            unknown = await client.get("/stats/port/99")
            flows = (await client.get("/stats/flowentry/1")).json()
            no_ofctl = await client.get("/stats/flow/1")
            everything = (await client.get("/stats/flows")).json()
            perf = (await client.get("/api/performance/metrics")).json()
    assert [s["dpid"] for s in switches] == ["0000000000000001", "0000000000000002", "0000000000000003"]
    assert {"port_no", "hw_addr", "name", "state"} <= set(switches[0]["ports"][0])
    assert links[0]["src"]["dpid"] == 1  # ints here, hex strings on switches: as FLOPY-NET's controller
    assert len(links) == 4 and len(hosts) == 6 and hosts[0]["port"]["dpid"] == "0000000000000001"
    assert list(by_hex) == ["0000000000000002"] and list(by_decimal) == ["2"]  # the key echoes the request
    assert by_hex["0000000000000002"][0]["rx_bytes"] == emulator.counters[(2, 1)]["rx_bytes"] > 0
    assert unknown.status_code == 404 and no_ofctl.status_code == 404
    assert list(flows) == ["1"] and len(flows["1"]) == 3
    assert {f["datapath_id"] for f in everything.values()} == {1, 2, 3}
    assert {"bandwidth", "latency", "flows", "ports", "totals", "rates", "health_score"} <= set(perf)


async def test_onos_shapes_and_auth(nursery: trio.Nursery) -> None:
    emulator = SdnControllerEmulator("onos", switches=2)
    url = await nursery.start(emulator.serve)
    async with httpx.AsyncClient(base_url=url, auth=("onos", "rocks")) as client:
        with trio.fail_after(10):
            refused = await client.get("/onos/v1/devices", auth=("onos", "nope"))
            devices = (await client.get("/onos/v1/devices")).json()["devices"]
            ports = (await client.get("/onos/v1/devices/of:0000000000000001/ports")).json()["ports"]
            missing = await client.get("/onos/v1/devices/of:00000000000000ff/ports")
            links = (await client.get("/onos/v1/links")).json()["links"]
            hosts = (await client.get("/onos/v1/hosts")).json()["hosts"]
            flows = (await client.get("/onos/v1/flows")).json()["flows"]
            statistics = (await client.get("/onos/v1/statistics/ports")).json()["statistics"]
    assert refused.status_code == 401 and missing.status_code == 404
    assert [d["id"] for d in devices] == ["of:0000000000000001", "of:0000000000000002"]
    assert ports[0]["port"] == "local" and ports[1]["annotations"]["portName"] == "s1-eth1"
    assert links[0] == {
        "src": {"port": "4", "device": "of:0000000000000001"},
        "dst": {"port": "3", "device": "of:0000000000000002"},
        "type": "DIRECT",
        "state": "ACTIVE",
    }
    assert hosts[0]["locations"] == [{"elementId": "of:0000000000000001", "port": "1"}]
    assert len(flows) == 6 and {"id", "deviceId", "packets", "bytes", "selector", "treatment"} <= set(flows[0])
    assert {"packetsReceived", "bytesSent", "durationSec"} <= set(statistics[0]["ports"][0])


async def test_scenario_and_counter_reset() -> None:
    emulator = SdnControllerEmulator("ryu")
    await emulator.step()
    busy = emulator.counters[(1, 1)]["rx_bytes"]
    assert busy > 0 and emulator.counters[(1, 3)]["rx_bytes"] == 0  # a port without a link carries nothing
    await emulator.step()
    assert len(emulator.links) == 2 and not emulator.ports[(3, 3)]["up"]
    await emulator.step()
    assert len(emulator.hosts) == 7 and len(emulator.flows[1]) == 4
    await emulator.step()
    assert len(emulator.links) == 4
    emulator.reset_counters()
    assert all(v == 0 for c in emulator.counters.values() for v in c.values())
