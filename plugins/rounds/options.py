"""Options of the ``rounds`` processor (PLUGINS.md lists them with their meaning)."""

from __future__ import annotations

import attrs
from flcollector import Duration

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

    #: node name -> IPv4 or MAC address, over FLOPY-NET's (env ``NODE_IP_<NAME>``: ``NODE_IP_FL_CLIENT_1`` names
    #: ``fl-client-1``)
    node_ips: dict[str, str] = attrs.Factory(dict)
    client_prefix: str = "fl-client-"  # nodes whose name starts with this are FL clients (the round's sites)
    fl_server_node: str = "fl-server"
    collector_node: str = "collector"  # where the probes start (the path a probe measures)
    #: sdn_traffic_rule rules whose bytes are the FL server's FL traffic (the denominator of the attribution)
    fl_server_rules: list[str] = attrs.Factory(lambda: ["fl_server"])
    update_interval: Duration = Duration(5.0)  # a running round's row is emitted at most this often
    settle: Duration = Duration(15.0)  # a round is final once records this much newer than its end arrived
    max_hold: Duration = Duration(600.0)  # records wait at most this long for the FL timeline to place them
    mismatch_tolerance: float = attrs.field(default=0.2, validator=attrs.validators.ge(0))  # 20 % of configured
    latency_floor_ms: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))
    loss_floor_pct: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    straggler_factor: float = attrs.field(default=1.5, validator=attrs.validators.gt(1))  # x the round's median
    link_capacity_mbps: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))  # 0: unknown
    max_pending: int = attrs.field(default=500_000, validator=attrs.validators.ge(1000))  # samples held at most
