"""Options of the ``sdn`` monitor (PLUGINS.md lists them with their meaning)."""

from __future__ import annotations

from typing import Any, Literal

import attrs
from flcollector import option_doc

from .traffic import rule_from_table


def _valid_rules(instance: Any, attribute: attrs.Attribute, value: list[dict[str, Any]]) -> None:
    for index, table in enumerate(value):
        rule_from_table(table, index)  # raises ValueError("traffic_rules[i]: ...")


@attrs.define
class SdnOptions:
    """Options of the ``sdn`` monitor; the traffic ones default to FLOPY-NET's addresses and ports."""

    url: str = attrs.field(default="http://sdn-controller:8181", metadata=option_doc(
        "base URL of the controller's REST API"))
    controller: Literal["ryu", "onos"] = attrs.field(default="ryu", metadata=option_doc(
        "`\"ryu\"` (FLOPY-NET's or stock, detected) or `\"onos\"`"))
    username: str = attrs.field(default="onos", metadata=option_doc("ONOS only: HTTP Basic user"))
    password: str = attrs.field(default="rocks", metadata=option_doc("ONOS only: HTTP Basic password"))
    max_concurrent_requests: int = attrs.field(default=16, validator=attrs.validators.ge(1), metadata=option_doc(
        "requests in flight at once during one poll (≥ 1)"))
    fl_server_addresses: list[str] = attrs.field(factory=lambda: ["192.168.100.10"], metadata=option_doc(
        "the FL server's IPv4 or MAC addresses (rules `fl_server`, `fl_metrics`; `sdn_fl_peer`). FLOPY-NET's GNS3 "
        "topology uses 192.168.141.x instead of 192.168.100.x"))
    fl_ports: list[int] = attrs.field(factory=lambda: [8080], metadata=option_doc(
        "L4 ports of FL traffic (the FL server's gRPC)"))
    fl_metrics_ports: list[int] = attrs.field(factory=lambda: [8081], metadata=option_doc(
        "the FL server's metrics API ports (control traffic)"))
    policy_engine_addresses: list[str] = attrs.field(factory=lambda: ["192.168.100.20"], metadata=option_doc(
        "the policy engine's addresses (control traffic)"))
    policy_engine_ports: list[int] = attrs.field(factory=lambda: [5000], metadata=option_doc(
        "the policy engine's ports (control traffic)"))
    controller_addresses: list[str] = attrs.field(factory=lambda: ["192.168.100.41"], metadata=option_doc(
        "the SDN controller's addresses (control traffic)"))
    controller_ports: list[int] = attrs.field(factory=lambda: [6633, 6653, 8181], metadata=option_doc(
        "the SDN controller's ports: OpenFlow, OpenFlow (IANA), REST"))
    collector_addresses: list[str] = attrs.field(factory=lambda: ["192.168.100.40"], metadata=option_doc(
        "the collector's addresses (control traffic)"))
    collector_ports: list[int] = attrs.field(factory=lambda: [8000, 8083], metadata=option_doc(
        "the collector's ports: in its container, published"))
    traffic_rules: list[dict[str, Any]] = attrs.field(factory=list, validator=_valid_rules, metadata=option_doc(
        "rules tried before the built-in ones, in order; the first that matches names the class: `{name, class = "
        '"fl"|"control"|"background", addresses = [...], ports = [...]}`; a bad rule is a config error naming '
        "`traffic_rules[i]`"))
