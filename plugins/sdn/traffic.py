"""Which traffic class a flow belongs to: FL, control or background, and the rule that said so.

A rule names a class and up to two criteria: ``addresses`` (IPv4 or MAC; the flow matches when one of its
endpoints has one of them) and ``ports`` (L4; the flow matches when it matches on one of them, as source or
destination). Every criterion a rule sets must hold; a rule without criteria matches every flow. Rules are tried in
order and the first that matches wins; no match is ``background`` by the rule ``default``.

The built-in rules come from the components' addresses and ports (FLOPY-NET's defaults: FL server 192.168.100.10,
gRPC 8080 and metrics API 8081; policy engine .20:5000; SDN controller .41, OpenFlow 6633/6653 and REST 8181;
collector .40, 8000 in its container and 8083 published), after the operator's own ``traffic_rules``:

1. traffic of the collector, the policy engine or the controller (by address): ``control``;
2. traffic on their ports, whoever the hosts: ``control``;
3. the FL server's metrics API (its address *and* a metrics port): ``control``;
4. any other traffic of the FL server (by address), then any on the FL ports: ``fl``.

Controllers that match flows on addresses only (FLOPY-NET's matches IPv4 source and destination, stock Ryu and
ONOS match MACs) give no L4 ports: such a flow is classified by its addresses alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

CLASSES = ("fl", "control", "background")
DEFAULT_RULE = "default"
_RULE_KEYS = {"name", "class", "addresses", "ports"}


@attrs.frozen
class Rule:
    """One classification rule (see the module docstring)."""

    name: str
    traffic_class: str
    addresses: frozenset[str] = frozenset()
    ports: frozenset[int] = frozenset()

    def matches(self, addresses: set[str], ports: set[int]) -> bool:
        """Whether a flow with these endpoint addresses and L4 ports matches."""
        return (not self.addresses or bool(self.addresses & addresses)) and (not self.ports or bool(self.ports & ports))


def _addresses(values: Iterable[str]) -> frozenset[str]:
    return frozenset(str(v).strip().lower() for v in values)


def rule_from_table(table: Mapping[str, Any], index: int) -> Rule:
    """A rule from a ``traffic_rules`` item; ValueError naming ``traffic_rules[index]`` and the problem."""
    where = f"traffic_rules[{index}]"
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: expected a table {{name, class, addresses, ports}}")
    unknown = set(table) - _RULE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_RULE_KEYS))})")
    name, kind = table.get("name"), table.get("class")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: 'name' must be a non-empty string")
    if kind not in CLASSES:
        raise ValueError(f"{where}: 'class' must be one of {', '.join(CLASSES)}, got {kind!r}")
    addresses, ports = table.get("addresses", []), table.get("ports", [])
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise ValueError(f"{where}: 'addresses' must be a list of strings")
    if not isinstance(ports, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in ports):
        raise ValueError(f"{where}: 'ports' must be a list of integers")
    return Rule(name, kind, _addresses(addresses), frozenset(ports))


def built_in_rules(options: Any) -> list[Rule]:
    """The component rules, in order (rules whose criteria are all empty are left out)."""
    components = [
        ("collector", options.collector_addresses, options.collector_ports),
        ("policy_engine", options.policy_engine_addresses, options.policy_engine_ports),
        ("sdn_controller", options.controller_addresses, options.controller_ports),
    ]
    fl_server = _addresses(options.fl_server_addresses)
    candidates = [Rule(name, "control", addresses=_addresses(addresses)) for name, addresses, _ in components]
    candidates += [Rule(f"{name}_port", "control", ports=frozenset(ports)) for name, _, ports in components]
    candidates += [
        Rule("fl_metrics", "control", fl_server, frozenset(options.fl_metrics_ports)),
        Rule("fl_server", "fl", addresses=fl_server),
        Rule("fl_port", "fl", ports=frozenset(options.fl_ports)),
    ]
    return [rule for rule in candidates if rule.addresses or rule.ports]


def classify(rules: list[Rule], addresses: set[str], ports: set[int]) -> tuple[str, str]:
    """``(class, rule name)`` of a flow with these endpoint addresses and L4 ports."""
    for rule in rules:
        if rule.matches(addresses, ports):
            return rule.traffic_class, rule.name
    return "background", DEFAULT_RULE
