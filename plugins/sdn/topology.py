"""One normalised topology for Ryu and ONOS, and the change events between two topologies.

Normalised shapes (also the ``TOPOLOGY_SNAPSHOT`` details, documented in PLUGINS.md):

- switch ``{"id", "dpid", "type": "switch", "ports": [{"port_no", "name", "hw_addr", "state"}], ...}``: ``id`` and
  ``dpid`` are the same 16-hex-digit string (ONOS adds ``device_id``, ``available``);
- host ``{"id": mac, "mac", "ip", "ips", "dpid", "port", "type": "host"}``;
- link ``{"id", "source", "target", "source_port", "target_port", "type": "direct"}``: link ends use the switches'
  spelling, so they join (upstream mixed int and hex DPIDs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SOURCE = "sdn_controller"


class ShapeError(ValueError):
    """An item of a controller answer does not have the expected shape."""


def dpid_hex(value: Any) -> str:
    """Return a DPID (int, decimal string, 16-hex string or ONOS ``of:`` id) as 16 lower-case hex digits."""
    if isinstance(value, bool):
        raise ShapeError(f"not a DPID: {value!r}")
    if isinstance(value, int):
        return f"{value:016x}"
    if isinstance(value, str):
        text = value.removeprefix("of:")
        try:
            number = int(text, 16) if len(text) == 16 else int(text)
        except ValueError:
            return value  # a non-OpenFlow device id: keep it as it is
        return f"{number:016x}"
    raise ShapeError(f"not a DPID: {value!r}")


def port_number(value: Any, hex_strings: bool = False) -> int | str:
    """Return a port number as int (Ryu's REST topology spells it as 8 hex digits); named ports stay strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if hex_strings and len(value) == 8 else int(value)
        except ValueError:
            return value
    raise ShapeError(f"not a port number: {value!r}")


def _port_state(value: Any) -> str:
    if isinstance(value, bool):
        return "up" if value else "down"
    if isinstance(value, int):
        return "down" if value & 1 else "up"  # OpenFlow port state: bit 0 is LINK_DOWN
    return str(value).lower() if value is not None else "unknown"


def _items(body: Any, key: str | None = None) -> list[Mapping[str, Any]]:
    items = body.get(key) if key is not None and isinstance(body, Mapping) else body
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise ShapeError(f"expected a list of objects{f' under {key!r}' if key else ''}")
    return items


def ryu_switches(body: Any) -> list[dict[str, Any]]:
    """``/v1.0/topology/switches`` → switches."""
    switches = []
    for item in _items(body):
        dpid = dpid_hex(item["dpid"])
        ports = [
            {
                "port_no": port_number(p.get("port_no"), hex_strings=True),
                "name": p.get("name", ""),
                "hw_addr": p.get("hw_addr", ""),
                "state": _port_state(p.get("state")),
            }
            for p in _items(item.get("ports", []))
        ]
        switches.append({"id": dpid, "dpid": dpid, "type": "switch", "ports": ports})
    return switches


def ryu_links(body: Any) -> list[dict[str, Any]]:
    """``/v1.0/topology/links`` → links."""
    return [
        _link(
            dpid_hex(i["src"]["dpid"]),
            port_number(i["src"]["port_no"], True),
            dpid_hex(i["dst"]["dpid"]),
            port_number(i["dst"]["port_no"], True),
        )
        for i in _items(body)
    ]


def ryu_hosts(body: Any) -> list[dict[str, Any]]:
    """``/v1.0/topology/hosts`` (a list) or ``/stats/hosts`` (maybe ``{mac: [dpid, port, ip]}``) → hosts."""
    if isinstance(body, Mapping):
        return [_host(str(mac), [v[2]] if len(v) > 2 else [], v[0], v[1]) for mac, v in body.items()]
    hosts = []
    for item in _items(body):
        ips = [ip.get("address") if isinstance(ip, Mapping) else ip for ip in item.get("ipv4", [])]
        port: Mapping[str, Any] = item["port"] if isinstance(item.get("port"), Mapping) else {}
        number = port.get("port_no")  # rest_topology spells it as 8 hex digits, FLOPY-NET's /stats/hosts as an int
        where = None if number is None else port_number(number, hex_strings=True)
        hosts.append(_host(str(item["mac"]), ips, port.get("dpid"), where))
    return hosts


def onos_switches(body: Any, ports: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``/onos/v1/devices`` plus each device's ``/ports`` answer (``ports`` by device id) → switches."""
    switches = []
    for item in _items(body, "devices"):
        device = str(item["id"])
        dpid = dpid_hex(device)
        answer = ports.get(device)
        port_items = _items(answer, "ports") if isinstance(answer, Mapping) else []
        port_list = []
        for p in port_items:
            if str(p.get("port")) == "local":  # the switch's own port: not a data port
                continue
            notes = p.get("annotations") or {}
            port_list.append(
                {
                    "port_no": port_number(p.get("port")),
                    "name": notes.get("portName", ""),
                    "hw_addr": notes.get("portMac", ""),
                    "state": _port_state(p.get("isEnabled")),
                }
            )
        switches.append(
            {
                "id": dpid,
                "dpid": dpid,
                "type": "switch",
                "device_id": device,
                "available": bool(item.get("available", True)),
                "ports": port_list,
            }
        )
    return switches


def onos_links(body: Any) -> list[dict[str, Any]]:
    """``/onos/v1/links`` → links."""
    return [
        _link(
            dpid_hex(i["src"]["device"]),
            port_number(i["src"]["port"]),
            dpid_hex(i["dst"]["device"]),
            port_number(i["dst"]["port"]),
        )
        for i in _items(body, "links")
    ]


def onos_hosts(body: Any) -> list[dict[str, Any]]:
    """``/onos/v1/hosts`` → hosts (the first location is the attachment point)."""
    hosts = []
    for item in _items(body, "hosts"):
        locations = item.get("locations") or ([item["location"]] if item.get("location") else [])
        where = locations[0] if locations else {}
        hosts.append(
            _host(
                str(item["mac"]).lower(), list(item.get("ipAddresses", [])), where.get("elementId"), where.get("port")
            )
        )
    return hosts


def _link(src: str, src_port: Any, dst: str, dst_port: Any) -> dict[str, Any]:
    return {
        "id": f"{src}:{src_port}-{dst}:{dst_port}",
        "source": src,
        "target": dst,
        "source_port": src_port,
        "target_port": dst_port,
        "type": "direct",
    }


def _host(mac: str, ips: list[Any], dpid: Any, port: Any) -> dict[str, Any]:
    ips = [str(ip) for ip in ips if ip]
    mac = mac.lower()
    return {
        "id": mac,
        "mac": mac,
        "ip": ips[0] if ips else "unknown",
        "ips": ips,
        "dpid": dpid_hex(dpid) if dpid is not None else None,
        "port": port_number(port) if port is not None else None,
        "type": "host",
    }


def snapshot(
    switches: list[dict[str, Any]], links: list[dict[str, Any]], hosts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``TOPOLOGY_SNAPSHOT`` details: ``{switches, links, hosts, nodes}`` (nodes = switches + hosts)."""
    return {"switches": switches, "links": links, "hosts": hosts, "nodes": [*switches, *hosts]}
