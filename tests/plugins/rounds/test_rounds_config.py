"""Who is who (FLOPY-NET's node names from NODE_IP_* and the defaults) and the configuration a manifest quotes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import attrs
from flcollector import MASK, Configured, Duration, mask_secrets
from flcollector.config import load_config
from flcollector.plugins.rounds.config_doc import config_hash, resolved_config
from flcollector.plugins.rounds.options import FLOPYNET_NODE_IPS
from flcollector.plugins.rounds.sites import Sites


def test_node_ip_variables_name_the_nodes_and_go_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[processors.rounds]]\n[processors.rounds.node_ips]\n"fl-client-9" = "10.0.0.9"\n'
                    '"fl-server" = "10.0.0.1"\n')
    env = {"NODE_IP_FL_SERVER": "192.168.141.10", "NODE_IP_FL_CLIENT_1": " 192.168.141.101 ", "NODE_IP_": "x"}
    [rounds] = load_config(path, env=env).of_kind("processor")
    assert rounds.options.node_ips == {"fl-client-9": "10.0.0.9", "fl-server": "192.168.141.10",
                                       "fl-client-1": "192.168.141.101"}
    [plain] = load_config(path, env={}).of_kind("processor")
    assert plain.options.node_ips == {"fl-client-9": "10.0.0.9", "fl-server": "10.0.0.1"}


def test_sites_join_names_addresses_macs_and_switch_ports() -> None:
    sites = Sites({**FLOPYNET_NODE_IPS, "fl-client-1": "192.168.141.101"}, "fl-client-")
    sites.learn_hosts([{"mac": "02:42:C0:A8:8D:65", "ips": ["192.168.141.101"], "dpid": "0000000000000001",
                        "port": 3}, "not a host"])
    assert sites.node_of("02:42:c0:a8:8d:65") == "fl-client-1" and sites.node_of("192.168.100.10") == "fl-server"
    assert sites.port_of("fl-client-1") == ("0000000000000001", "3") and sites.port_of("fl-server") is None
    assert sites.probe_node("192.168.100.10:8081", None) == "fl-server"
    assert sites.probe_node("127.0.0.1:9", "fl-server") == "fl-server" and sites.probe_node("x:1", "y") is None
    assert sites.is_client("fl-client-1") and not sites.is_client("collector")


def test_secrets_are_masked_and_the_hash_follows_the_masked_document() -> None:
    options = {"url": "http://admin:s3cret@gns3:3080/v2", "password": "pw", "token": "", "api_key": "k",
               "nested": [{"auth_token": "t"}], "username": "admin", "retries": 3}
    masked = mask_secrets(options)
    assert masked == {"url": f"http://admin:{MASK}@gns3:3080/v2", "password": MASK, "token": "", "api_key": MASK,
                      "nested": [{"auth_token": MASK}], "username": "admin", "retries": 3}
    assert config_hash(masked) == config_hash(dict(reversed(list(masked.items())))) and len(config_hash(masked)) == 64


@attrs.define
class LabOptions:
    """Options with a secret, a duration and a list, as a monitor's are."""

    url: str = "http://gns3:3080"
    password: str = "pw"
    interval: Duration = Duration(2.0)
    targets: list[str] = attrs.Factory(lambda: ["a:1"])


def test_the_resolved_config_lists_every_enabled_component_with_its_options_masked() -> None:
    monitor = Configured("monitor", "gns3", "lab", "gns3", LabOptions(), 5.0)
    agent = SimpleNamespace(version="1.2.3", configured=lambda kind: [monitor] if kind == "monitor" else [],
                            settings={"interval": 5.0, "experiment": None})
    document = resolved_config(agent)
    assert document["version"] == "1.2.3" and document["sinks"] == document["processors"] == []
    assert document["agent"] == {"interval": 5.0, "experiment": None}
    assert document["monitors"] == [{"name": "gns3", "instance": "lab", "plugin": "gns3", "interval_s": 5.0,
                                     "options": {"url": "http://gns3:3080", "password": MASK, "interval": 2.0,
                                                 "targets": ["a:1"]}}]
