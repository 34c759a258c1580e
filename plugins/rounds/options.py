"""Options of the ``rounds`` processor (PLUGINS.md lists them with their meaning)."""

from __future__ import annotations

import attrs
from flcollector import Duration, option_doc

#: FLOPY-NET's Docker addressing (``config/network_addressing.json``): node name -> IPv4. The GNS3 nodes have the
#: same names; a GNS3 deployment sets ``NODE_IP_<NAME>`` (192.168.141.x), which go over these.
FLOPYNET_NODE_IPS: dict[str, str] = {
    "fl-server": "192.168.100.10",
    "policy-engine": "192.168.100.20",
    "collector": "192.168.100.40",
    "sdn-controller": "192.168.100.41",
    "openvswitch": "192.168.100.60",
    **{f"fl-client-{n}": f"192.168.100.{100 + n}" for n in range(1, 11)},
}


@attrs.define
class RoundsOptions:
    """Options of ``[[processors.rounds]]``."""

    node_ips: dict[str, str] = attrs.field(factory=dict, metadata=option_doc(
        "node name → IPv4 or MAC, over FLOPY-NET's Docker addressing (`fl-server` 192.168.100.10, `policy-engine` "
        ".20, `collector` .40, `sdn-controller` .41, `openvswitch` .60, `fl-client-N` .100+N for N = 1..10); "
        "`NODE_IP_FL_CLIENT_1` names `fl-client-1`", default="`{}` over FLOPY-NET's"))
    client_prefix: str = attrs.field(default="fl-client-", metadata=option_doc(
        "nodes whose name starts with it are FL clients (a round's sites)"))
    fl_server_node: str = attrs.field(default="fl-server", metadata=option_doc("the FL server's node"))
    collector_node: str = attrs.field(default="collector", metadata=option_doc("where the probes start"))
    fl_server_rules: list[str] = attrs.field(factory=lambda: ["fl_server"], metadata=option_doc(
        "`sdn_traffic_rule` rules whose bytes are the FL server's FL traffic (what the clients' bytes are "
        "attributed against)"))
    update_interval: Duration = attrs.field(default=Duration(5.0), metadata=option_doc(
        "a running round's row at most this often (and each experiment's summary)"))
    settle: Duration = attrs.field(default=Duration(15.0), metadata=option_doc(
        "a round is final once records this much newer than its end arrived (keep it above the monitors' "
        "intervals)"))
    max_hold: Duration = attrs.field(default=Duration(600.0), metadata=option_doc(
        "records wait at most this long for the FL timeline to place them (none comes while the FL server is down)"))
    mismatch_tolerance: float = attrs.field(default=0.2, validator=attrs.validators.ge(0), metadata=option_doc(
        "configured and observed disagree beyond this share of the configured value..."))
    latency_floor_ms: float = attrs.field(default=5.0, validator=attrs.validators.ge(0), metadata=option_doc(
        "...and beyond this much added RTT (ms)"))
    loss_floor_pct: float = attrs.field(default=1.0, validator=attrs.validators.ge(0), metadata=option_doc(
        "...and beyond this much round-trip loss (%)"))
    straggler_factor: float = attrs.field(default=1.5, validator=attrs.validators.gt(1), metadata=option_doc(
        "a client whose training took more than this times the round's median is a straggler (needs `fl_client` "
        "times)"))
    link_capacity_mbps: float = attrs.field(default=0.0, validator=attrs.validators.ge(0), metadata=option_doc(
        "port capacity for utilisation in %; 0: unknown, rates only"))
    max_pending: int = attrs.field(default=500_000, validator=attrs.validators.ge(1000), metadata=option_doc(
        "records held at most while waiting for the timeline (the oldest half is placed beyond it)"))
