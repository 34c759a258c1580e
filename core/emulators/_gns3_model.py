"""The GNS3 controller's objects as the emulator keeps them (projects, nodes, links) and the server's rules for them.

Reproduced from ``gns3server/controller/``: ``Link.update_filters`` (strings stripped, numbers made ``int``, a
filter whose value list is empty or starts with ``0``/``""`` dropped), ``Link.get_active_filters`` (a suspended link
runs ``{"frequency_drop": [-1]}`` while ``filters`` keeps the configured values), ``Link._get_filter_node`` (filters
run on the first endpoint whose node type can filter), ``Link.asdict`` / ``Node.asdict`` / ``Project.asdict`` (key
names), and ``Project.links`` / ``Project.nodes`` of a *closed* project (the topology file's reduced objects).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import attrs

#: Node types whose endpoint runs a link's filters (``Link._get_filter_node``); switches and hubs do not.
FILTER_NODE_TYPES = ("vpcs", "vmware", "dynamips", "qemu", "iou", "cloud", "nat", "virtualbox", "docker")


def clean_filters(filters: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``Link.update_filters``: the filters the server keeps. Raises TypeError/ValueError where the server would
    (a value list that is not iterable, a value ``int()`` refuses): the real server answers 500 then."""
    cleaned: dict[str, list[Any]] = {}
    for kind, values in filters.items():
        kept = [value.strip("\n ") if isinstance(value, str) else int(value) for value in values]
        if kept and kept[0] != 0 and kept[0] != "":
            cleaned[kind] = kept
    return cleaned


def new_id() -> str:
    """A fresh UUID4 string, as the server gives projects, nodes and links."""
    return str(uuid.uuid4())


@attrs.define
class Node:
    """One node; ``adapters`` ports named ``eth<n>`` (docker, cloud) or one adapter of ``Ethernet<n>`` (switch)."""

    name: str
    node_type: str
    adapters: int = 1
    status: str = "started"
    node_id: str = attrs.field(factory=new_id)
    x: int = 0
    y: int = 0

    def ports(self) -> list[dict[str, Any]]:
        """``Node.asdict()["ports"]``: one entry per port with its name and numbers."""
        if self.node_type in ("ethernet_switch", "ethernet_hub"):
            numbers = [(0, n, f"Ethernet{n}") for n in range(self.adapters)]
        else:
            numbers = [(n, 0, f"eth{n}") for n in range(self.adapters)]
        return [
            {
                "name": name,
                "short_name": name.replace("Ethernet", "e"),
                "adapter_number": adapter,
                "port_number": port,
                "link_type": "ethernet",
                "data_link_types": {"Ethernet": "DLT_EN10MB"},
            }
            for adapter, port, name in numbers
        ]

    def asdict(self, project_id: str, *, topology_dump: bool = False) -> dict[str, Any]:
        """``Node.asdict``: the topology file's keys when ``topology_dump`` (a closed project), else the API's."""
        data: dict[str, Any] = {
            "compute_id": "local",
            "node_id": self.node_id,
            "node_type": self.node_type,
            "template_id": None,
            "name": self.name,
            "console": None,
            "console_type": "none",
            "console_auto_start": False,
            "properties": {},
            "label": {"text": self.name, "x": 0, "y": -25},
            "x": self.x,
            "y": self.y,
            "z": 1,
            "locked": False,
            "width": 60,
            "height": 60,
            "symbol": ":/symbols/docker_guest.svg",
            "port_name_format": "eth{0}" if self.node_type != "ethernet_switch" else "Ethernet{0}",
            "port_segment_size": 0,
            "first_port_name": None,
            "custom_adapters": [],
        }
        if topology_dump:
            return data
        data.update(
            project_id=project_id,
            command_line=None,
            status=self.status,
            console_host="127.0.0.1",
            node_directory=None,
            ports=self.ports(),
        )
        return data


@attrs.define
class Link:
    """A link between two node ports: ``ends`` are ``(node_id, adapter_number, port_number)``."""

    ends: list[tuple[str, int, int]]
    filters: dict[str, list[Any]] = attrs.field(factory=dict)
    suspend: bool = False
    link_style: dict[str, Any] = attrs.field(factory=dict)
    link_id: str = attrs.field(factory=new_id)

    def filter_node(self, nodes: Mapping[str, Node]) -> str | None:
        """``Link._get_filter_node``: the id of the endpoint that runs the filters, or None (no endpoint can)."""
        for node_id, _adapter, _port in self.ends:
            if nodes[node_id].node_type in FILTER_NODE_TYPES:
                return node_id
        return None

    def active_filters(self) -> dict[str, list[Any]]:
        """``Link.get_active_filters``: what the compute runs; a suspended link drops everything."""
        return {"frequency_drop": [-1]} if self.suspend else self.filters

    def asdict(self, project_id: str, *, topology_dump: bool = False) -> dict[str, Any]:
        """``Link.asdict``: the topology file's keys when ``topology_dump`` (a closed project), else the API's."""
        ends = [
            {"node_id": node_id, "adapter_number": adapter, "port_number": port,
             "label": {"text": f"{adapter}/{port}", "style": "font-family: TypeWriter;font-size: 10.0;"}}
            for node_id, adapter, port in self.ends
        ]
        if topology_dump:
            return {"nodes": ends, "link_id": self.link_id, "filters": self.filters, "link_style": self.link_style,
                    "suspend": self.suspend}
        return {
            "nodes": ends,
            "link_id": self.link_id,
            "project_id": project_id,
            "capturing": False,
            "capture_file_name": None,
            "capture_file_path": None,
            "capture_compute_id": None,
            "link_type": "ethernet",
            "filters": self.filters,
            "suspend": self.suspend,
            "link_style": self.link_style,
        }


@attrs.define
class Project:
    """A project; ``auto_close`` defaults to True, as ``Project.__init__`` has it."""

    name: str
    project_id: str = attrs.field(factory=new_id)
    status: str = "opened"
    auto_close: bool = True
    auto_open: bool = False
    auto_start: bool = False
    nodes: dict[str, Node] = attrs.field(factory=dict)
    links: dict[str, Link] = attrs.field(factory=dict)

    def add_node(self, node: Node) -> Node:
        """Add ``node`` and return it."""
        self.nodes[node.node_id] = node
        return node

    def connect(self, a: Node, a_adapter: int, b: Node, b_adapter: int) -> Link:
        """Link adapter ``a_adapter`` of ``a`` to ``b_adapter`` of ``b`` (port numbers as the node type has them)."""
        ends = []
        for node, adapter in ((a, a_adapter), (b, b_adapter)):
            wanted = ((adapter, 0), (0, adapter))  # eth<adapter>, or a switch's Ethernet<adapter>
            port = next(p for p in node.ports() if (p["adapter_number"], p["port_number"]) in wanted)
            ends.append((node.node_id, port["adapter_number"], port["port_number"]))
        link = Link(ends)
        self.links[link.link_id] = link
        return link

    def asdict(self) -> dict[str, Any]:
        """``Project.asdict``."""
        return {
            "name": self.name,
            "project_id": self.project_id,
            "path": f"/opt/gns3/projects/{self.project_id}",
            "filename": f"{self.name}.gns3",
            "status": self.status,
            "auto_start": self.auto_start,
            "auto_close": self.auto_close,
            "auto_open": self.auto_open,
            "scene_height": 1000,
            "scene_width": 2000,
            "zoom": 100,
            "show_layers": False,
            "snap_to_grid": False,
            "show_grid": False,
            "grid_size": 75,
            "drawing_grid_size": 25,
            "show_interface_labels": False,
            "supplier": None,
            "variables": None,
        }

    def links_json(self) -> list[dict[str, Any]]:
        """``GET .../links``: the API's objects, or the topology file's when the project is closed."""
        closed = self.status == "closed"
        return [link.asdict(self.project_id, topology_dump=closed) for link in self.links.values()]

    def nodes_json(self) -> list[dict[str, Any]]:
        """``GET .../nodes``: the API's objects, or the topology file's when the project is closed."""
        closed = self.status == "closed"
        return [node.asdict(self.project_id, topology_dump=closed) for node in self.nodes.values()]
