"""container/gns3/collector.json: the GNS3 template and the spec's topology node, resolved without any traffic."""

from __future__ import annotations

import json
from typing import Any

import yaml
from container_helpers import CONTAINER, SPEC_GNS3_ENV, parse_env_lines, run_entrypoint, source_urls

TEMPLATE_FILE = CONTAINER / "gns3" / "collector.json"


def gns3() -> dict[str, Any]:
    """The template file as data."""
    data = json.loads(TEMPLATE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def template_environment() -> dict[str, str]:
    """The template's environment: GNS3 stores it as ``NAME=value`` lines."""
    return parse_env_lines(gns3()["template"]["environment"])


def test_node_has_the_spec_fields() -> None:
    node = gns3()["node"]
    assert node["name"] == "collector"
    assert node["service_type"] == "collector"
    assert node["ip_address"] == "192.168.141.40"
    assert node["ports"] == [8000]
    assert node["cloud_node_access"] is True
    assert node["template_name"] == gns3()["template"]["name"] == "flopynet-Collector"
    # everything the spec's node environment says, said the same way
    assert node["environment"].items() >= SPEC_GNS3_ENV.items()


def test_template_is_a_gns3_docker_template_of_the_compose_image() -> None:
    template = gns3()["template"]
    assert template["template_type"] == "docker"
    assert template["adapters"] == 1
    assert template["start_command"] == ""  # the image's own entrypoint and `run`
    compose = yaml.safe_load((CONTAINER / "compose.yaml").read_text())
    assert template["image"] == compose["services"]["collector"]["image"]
    env = template_environment()
    assert env["SERVICE_TYPE"] == "collector" and env["USE_STATIC_IP"] == "true"
    assert env["COLLECTOR_PORT"] == str(gns3()["node"]["ports"][0])


GNS3_URLS = {
    "fl": "http://192.168.141.10:8081",
    "policy": "http://192.168.141.20:5000",
    "sdn": "http://192.168.141.41:8181",
}


def test_node_environment_resolves_to_the_gns3_addresses() -> None:
    result = run_entrypoint(gns3()["node"]["environment"], "--print-env")
    assert result.returncode == 0, result.stderr
    assert parse_env_lines(result.stdout)["COLLECTOR_PORT"] == "8000"
    assert source_urls(gns3()["node"]["environment"]) == GNS3_URLS


def test_node_ips_alone_are_enough_in_gns3() -> None:
    env = {k: v for k, v in gns3()["node"]["environment"].items() if not k.endswith("_URL")}
    assert source_urls(env) == GNS3_URLS


def test_template_environment_alone_fails_naming_the_node_ips() -> None:
    # A node made from the bare template, before its addresses are set, must say what is missing.
    result = run_entrypoint(template_environment(), "--print-env")
    assert result.returncode == 2
    for variable in ("NODE_IP_FL_SERVER", "NODE_IP_POLICY_ENGINE", "NODE_IP_SDN_CONTROLLER"):
        assert variable in result.stderr


def test_node_dry_run_config_serves_the_cloud_node_port() -> None:
    result = run_entrypoint({**gns3()["node"]["environment"], "FLCOLLECTOR_DRY_RUN": "1"}, "run")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    server = config["listeners"]["server"][0]
    assert (server["host"], server["port"]) == ("0.0.0.0", gns3()["node"]["ports"][0])
    assert config["monitors"]["sdn"][0]["url"] == "http://192.168.141.41:8181"
