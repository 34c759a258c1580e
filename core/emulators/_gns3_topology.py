"""FLOPY-NET's basic GNS3 topology (``config/topology/basic_topology.json``) as the emulator's project."""

from __future__ import annotations

from ._gns3_model import Node, Project


def flopynet_project(clients: int = 2, name: str = "basic_federated_learning") -> Project:
    """FLOPY-NET's ``config/topology/basic_topology.json`` as a GNS3 project (docker nodes, an OpenVSwitch, two
    Ethernet switches and a cloud); ``clients`` FL clients on the OpenVSwitch."""
    project = Project(name)
    add = project.add_node
    policy, fl_server = add(Node("policy-engine", "docker", 1, x=200, y=50)), add(Node("fl-server", "docker", 1, y=200))
    sdn, collector = add(Node("sdn-controller", "docker", 2, x=400, y=50)), add(Node("collector", "docker", 1, x=150))
    ovs = add(Node("openvswitch", "docker", 16, x=250, y=300))
    switch1, switch2 = add(Node("switch1", "ethernet_switch", 8)), add(Node("switch2", "ethernet_switch", 8))
    cloud = add(Node("Cloud", "cloud", 1, x=250, y=450))
    project.connect(sdn, 0, switch2, 0)
    project.connect(sdn, 1, switch1, 2)
    project.connect(fl_server, 0, ovs, 1)
    project.connect(policy, 0, switch1, 1)
    project.connect(switch1, 0, ovs, 2)
    project.connect(switch2, 1, ovs, 0)
    project.connect(collector, 0, ovs, 3)
    for number in range(1, clients + 1):
        project.connect(add(Node(f"fl-client-{number}", "docker", 1, x=100 * number, y=380)), 0, ovs, 3 + number)
    project.connect(cloud, 0, ovs, 4 + clients)
    return project
