"""Options of the ``sdn`` monitor (PLUGINS.md lists them with their meaning)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .traffic import rule_from_table


def _valid_rules(instance: Any, attribute: attrs.Attribute, value: list[dict[str, Any]]) -> None:
    for index, table in enumerate(value):
        rule_from_table(table, index)  # raises ValueError("traffic_rules[i]: ...")


@attrs.define
class SdnOptions:
    """Options of the ``sdn`` monitor; the traffic ones default to FLOPY-NET's addresses and ports."""

    url: str = "http://sdn-controller:8181"
    controller: Literal["ryu", "onos"] = "ryu"
    username: str = "onos"  # ONOS only (HTTP Basic)
    password: str = "rocks"  # ONOS only
    #: requests in flight at once during one poll
    max_concurrent_requests: int = attrs.field(default=16, validator=attrs.validators.ge(1))
    #: FL traffic classification: the components' addresses (IPv4 or MAC) and L4 ports
    fl_server_addresses: list[str] = attrs.Factory(lambda: ["192.168.100.10"])
    fl_ports: list[int] = attrs.Factory(lambda: [8080])  # the FL server's gRPC port: FL traffic
    fl_metrics_ports: list[int] = attrs.Factory(lambda: [8081])  # its metrics API: control traffic
    policy_engine_addresses: list[str] = attrs.Factory(lambda: ["192.168.100.20"])
    policy_engine_ports: list[int] = attrs.Factory(lambda: [5000])
    controller_addresses: list[str] = attrs.Factory(lambda: ["192.168.100.41"])
    controller_ports: list[int] = attrs.Factory(lambda: [6633, 6653, 8181])
    collector_addresses: list[str] = attrs.Factory(lambda: ["192.168.100.40"])
    collector_ports: list[int] = attrs.Factory(lambda: [8000, 8083])
    #: rules tried before the built-in ones: [{name, class, addresses, ports}]
    traffic_rules: list[dict[str, Any]] = attrs.field(factory=list, validator=_valid_rules)
