"""Records as the fl, sdn, probe, gns3 monitors and the core write them, for feeding the round table in tests.

Times are seconds on a test clock starting at ``T0``; every builder takes seconds and writes integer nanoseconds.
"""

from __future__ import annotations

from typing import Any

from flcollector import Event, Metric
from flcollector.options import build_options
from flcollector.plugins.rounds.options import RoundsOptions
from flcollector.plugins.rounds.table import RoundTable

T0 = 1_800_000_000.0  # epoch seconds
EXP = "exp1"
SERVER, CLIENT1, CLIENT2 = "192.168.100.10", "192.168.100.101", "192.168.100.102"
SWITCH = "00002696755c7301"
PORTS = {CLIENT1: "2", CLIENT2: "3", SERVER: "1"}  # where the topology attaches each host


def ns(seconds: float) -> int:
    """Test-clock seconds as epoch nanoseconds."""
    return int((T0 + seconds) * 1e9)


def table(monitors: dict[str, float] | None = None, **options: Any) -> RoundTable:
    """A round table with ``options`` (settle 2 s, update every 1 s unless given)."""
    opts = build_options(RoundsOptions, {"settle": "2s", "update_interval": "1s", **options})
    return RoundTable(opts, lambda: dict(monitors or {}))


def topology(at: float) -> Event:
    """``TOPOLOGY_SNAPSHOT`` placing the server and both clients on switch ports."""
    hosts = [{"mac": f"02:42:c0:a8:64:{ip.rsplit('.', 1)[1]}", "ip": ip, "ips": [ip], "dpid": SWITCH,
              "port": int(port)} for ip, port in PORTS.items()]
    return Event("TOPOLOGY_SNAPSHOT", "t", ns(at), "sdn_controller", details={"hosts": hosts, "switches": []})


def started(n: int, start: float, at: float | None = None, experiment: str = EXP) -> Event:
    """``ROUND_STARTED`` of round ``n`` starting at ``start`` (logged at ``at``)."""
    details = {"round": n, "round_start_time": T0 + start, "config_duration": 0.01}
    return Event("ROUND_STARTED", "s", ns(start if at is None else at), "fl_server", details=details,
                 experiment=experiment, round=n)


def fl_round(n: int, start: float, end: float, experiment: str = EXP, **fields: Any) -> Metric:
    """The fl monitor's ``fl_round`` of round ``n`` (the row's time is the round's end)."""
    values = {"accuracy": 0.5 + n / 100, "loss": 1.0 / n, "total_duration_s": end - start, **fields}
    return Metric("fl_round", values, ns(end), {}, "fl_server", experiment, n)


def fl_server(at: float, state: str = "active", experiment: str = EXP, round_: int | None = None) -> Metric:
    """An ``fl_server`` snapshot (its time moves the table's clock)."""
    return Metric("fl_server", {"state": state}, ns(at), {}, "fl_server", experiment, round_)


def port(at: float, port_no: str, rx_bytes: int, tx_bytes: int, interval: float = 1.0, rx_pps: float = 0.0,
         tx_pps: float = 0.0, rx_drops: float = 0.0, tx_drops: float = 0.0, switch: str = SWITCH) -> Metric:
    """``sdn_port`` with cumulative byte counters and rates over ``interval``."""
    fields = {"rx_bytes": rx_bytes, "tx_bytes": tx_bytes, "interval_s": interval, "rx_bps": 0.0, "tx_bps": 0.0,
              "rx_pps": rx_pps, "tx_pps": tx_pps, "rx_drops_ps": rx_drops, "tx_drops_ps": tx_drops}
    return Metric("sdn_port", fields, ns(at), {"switch": switch, "port": port_no}, "sdn_controller")


def peer(at: float, address: str, to_server: int, from_server: int, interval: float = 1.0) -> Metric:
    """``sdn_fl_peer``: bytes between ``address`` and the FL server in the interval ending ``at``."""
    fields = {"bytes_to_server": to_server, "bytes_from_server": from_server, "packets_to_server": to_server // 1000,
              "packets_from_server": from_server // 1000, "interval_s": interval}
    return Metric("sdn_fl_peer", fields, ns(at), {"peer": address}, "sdn_controller")


def traffic(at: float, fl: int, control: int, background: int, interval: float = 1.0) -> list[Metric]:
    """``sdn_traffic`` and the FL server's ``sdn_traffic_rule`` of one poll."""
    fields = {"fl_bytes": fl, "control_bytes": control, "background_bytes": background, "fl_packets": fl // 1000,
              "control_packets": control // 1000, "background_packets": background // 1000, "interval_s": interval}
    rule = {"bytes": fl, "packets": fl // 1000, "flows": 2}
    return [Metric("sdn_traffic", fields, ns(at), {}, "sdn_controller"),
            Metric("sdn_traffic_rule", rule, ns(at), {"rule": "fl_server", "class": "fl"}, "sdn_controller")]


def link(at: float, a: str, b: str, latency: float = 0.0, loss: float = 0.0, suspended: bool = False) -> Metric:
    """``gns3_link`` between nodes ``a`` and ``b`` with the gns3 plugin's derived fields."""
    applied = latency > 0 or loss > 0 or suspended
    fields = {"latency_ms": latency, "jitter_ms": 0.0, "loss_pct": loss, "suspended": suspended,
              "rtt_added_ms": 2 * latency, "filters_applied": applied,
              "loss_roundtrip_pct": 100.0 if suspended else 100 * (1 - (1 - loss / 100) ** 2)}
    tags = {"node_a": a, "node_b": b, "link_id": f"{a}-{b}", "link": f"{a}<->{b}", "project": "p"}
    return Metric("gns3_link", fields, ns(at), tags, "gns3")


def gns3_poll(at: float, uplink_latency: float = 0.0, uplink_loss: float = 0.0) -> list[Metric]:
    """One GNS3 poll of a star around ``openvswitch``; the FL server's uplink carries the given conditions."""
    return [link(at, "fl-server", "openvswitch", uplink_latency, uplink_loss),
            link(at, "collector", "openvswitch"), link(at, "fl-client-1", "openvswitch"),
            link(at, "fl-client-2", "openvswitch")]


def probe(at: float, rtt: float, loss: float = 0.0) -> Metric:
    """``probe_tcp`` to the FL server (labelled ``fl-server``)."""
    fields = {"rtt_avg_ms": rtt, "rtt_min_ms": rtt, "jitter_ms": 0.1, "loss_percent": loss, "sent": 5}
    return Metric("probe_tcp", fields, ns(at), {"target": f"{SERVER}:8081", "label": "fl-server"}, "probe")


def outage(kind: str, at: float, monitor: str = "policy") -> Event:
    """The core's ``SOURCE_UNREACHABLE`` / ``SOURCE_RECOVERED`` of ``monitor``."""
    return Event(kind, kind, ns(at), monitor, "ERROR", {"monitor": monitor, "plugin": monitor})


def rows(records: list[Any], name: str = "fl_round_network") -> dict[int, Metric]:
    """The newest record called ``name`` per round (client records: ``rows(..., "fl_round_client")`` by round
    keeps the last client only; use :func:`clients`)."""
    return {r.round: r for r in records if isinstance(r, Metric) and r.name == name}


def clients(records: list[Any], round_: int) -> dict[str, Metric]:
    """The newest ``fl_round_client`` per client of ``round_``."""
    return {r.tags["client"]: r for r in records
            if isinstance(r, Metric) and r.name == "fl_round_client" and r.round == round_}
