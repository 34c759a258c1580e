"""Who is who: FLOPY-NET's node names, their addresses, and the switch port each host is attached to.

FLOPY-NET names its nodes alike everywhere: the GNS3 nodes (``fl-server``, ``fl-client-1``, ``collector``...), the
``NODE_IP_<NAME>`` variables of its deployment (``NODE_IP_FL_CLIENT_1`` is ``fl-client-1``'s address) and the
dashboard. The SDN controller knows hosts by address only (``sdn_fl_peer`` names a peer by its IPv4 address, else its
MAC) and places each host on a switch port (``TOPOLOGY_SNAPSHOT``'s hosts: MAC, addresses, DPID, port). This table
joins the three: the configured ``node_ips`` give each name an address, the topology gives each address its MAC and
its switch port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Port = tuple[str, str]  # (switch dpid, port number as a string), as the sdn_port tags spell them


class Sites:
    """Node names, addresses and switch ports (see the module docstring)."""

    def __init__(self, node_ips: Mapping[str, str], client_prefix: str) -> None:
        self.client_prefix = client_prefix
        self.nodes = dict(node_ips)
        self._node_by_address = {address.strip().lower(): node for node, address in node_ips.items()}
        self._ip_by_mac: dict[str, str] = {}
        self._port_by_ip: dict[str, Port] = {}

    def learn_hosts(self, hosts: Iterable[Mapping[str, Any]]) -> None:
        """Take the hosts of a ``TOPOLOGY_SNAPSHOT`` (``mac``, ``ips``, ``dpid``, ``port``); they replace the last."""
        ip_by_mac: dict[str, str] = {}
        port_by_ip: dict[str, Port] = {}
        for host in hosts:
            if not isinstance(host, Mapping):
                continue
            mac = str(host.get("mac", "")).lower()
            ips = [str(ip) for ip in host.get("ips") or [] if ip]
            if mac and ips:
                ip_by_mac[mac] = ips[0]
            if host.get("dpid") is not None and host.get("port") is not None:
                for ip in ips:
                    port_by_ip[ip] = (str(host["dpid"]), str(host["port"]))
        self._ip_by_mac, self._port_by_ip = ip_by_mac, port_by_ip

    def node_of(self, address: str) -> str | None:
        """The node name of an IPv4 or MAC address (a MAC through the topology's host list), or None."""
        key = address.strip().lower()
        node = self._node_by_address.get(key)
        if node is None and key in self._ip_by_mac:
            node = self._node_by_address.get(self._ip_by_mac[key])
        return node

    def port_of(self, node: str) -> Port | None:
        """The switch port the node's host is attached to, as far as the topology knows."""
        address = self.nodes.get(node, "").strip().lower()
        ip = self._ip_by_mac.get(address, address)
        return self._port_by_ip.get(ip)

    def is_client(self, node: str) -> bool:
        """Whether ``node`` is an FL client."""
        return node.startswith(self.client_prefix)

    def probe_node(self, target: str, label: str | None) -> str | None:
        """The node a ``probe_tcp`` target reaches: its label when that names a node, else its host's node."""
        if label and label in self.nodes:
            return label
        host = target.rsplit(":", 1)[0].strip("[]")
        if host in self.nodes:
            return host
        return self.node_of(host)
