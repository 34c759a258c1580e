"""container/entrypoint.sh: GNS3 address resolution, clear failures, validation, and exec of the agent.

Resolution is checked with ``--print-env`` and ``FLCOLLECTOR_DRY_RUN=1``, so no 192.168.x address is ever contacted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from container_helpers import (
    ENTRYPOINT,
    SPEC_GNS3_ENV,
    local_container_toml,
    parse_env_lines,
    run_entrypoint,
    source_urls,
)
from flcollector.config import DEFAULT_PORTS

GNS3_NODE_IPS = {
    "USE_STATIC_IP": "true",
    "NODE_IP_FL_SERVER": "192.168.141.10",
    "NODE_IP_POLICY_ENGINE": "192.168.141.20",
    "NODE_IP_SDN_CONTROLLER": "192.168.141.41",
}


def resolved_env(env: dict[str, str]) -> dict[str, str]:
    """Run ``--print-env`` and return what it printed; fail the test with stderr when it did not succeed."""
    result = run_entrypoint(env, "--print-env")
    assert result.returncode == 0, result.stderr
    return parse_env_lines(result.stdout)


def test_entrypoint_is_an_executable_bash_script() -> None:
    assert ENTRYPOINT.read_text().startswith("#!/usr/bin/env bash\n")
    assert ENTRYPOINT.stat().st_mode & 0o111, "the image runs it directly: keep the executable bit"


def test_gns3_node_ips_become_source_urls_with_flopynet_ports() -> None:
    assert source_urls(GNS3_NODE_IPS) == {
        "fl": "http://192.168.141.10:8081",
        "policy": "http://192.168.141.20:5000",
        "sdn": "http://192.168.141.41:8181",
    }


def test_node_ips_are_handed_to_the_agent_as_hosts() -> None:
    # the agent, not the entrypoint, adds the port: the entrypoint keeps no copy of FLOPY-NET's ports
    env = resolved_env(GNS3_NODE_IPS)
    assert env["FL_SERVER_HOST"] == "192.168.141.10"
    assert "FL_SERVER_URL" not in env and "FL_SERVER_PORT" not in env
    script = ENTRYPOINT.read_text()
    for port in DEFAULT_PORTS.values():
        assert not re.search(rf"\b{port}\b", script), f"entrypoint.sh still names port {port}"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ({"USE_STATIC_IP": "true"}, "http://192.168.141.10:8081"),
        ({"NETWORK_MODE": "gns3"}, "http://192.168.141.10:8081"),
        ({"GNS3_NETWORK": "TRUE"}, "http://192.168.141.10:8081"),
        ({}, "http://fl-server:8081"),  # outside GNS3 the service name resolves, and wins
    ],
)
def test_static_ip_beats_the_service_name_only_in_gns3(mode: dict[str, str], expected: str) -> None:
    env = {
        **mode,
        "FL_SERVER_HOST": "fl-server",
        "NODE_IP_FL_SERVER": "192.168.141.10",
        "POLICY_ENGINE_URL": "http://policy-engine:5000",
        "SDN_CONTROLLER_URL": "http://sdn-controller:8181",
    }
    assert source_urls(env)["fl"] == expected


def test_explicit_url_wins_over_node_ip_and_host() -> None:
    env = {**GNS3_NODE_IPS, "FL_SERVER_URL": "http://10.0.0.5:9999", "FL_SERVER_HOST": "fl-server"}
    assert source_urls(env)["fl"] == "http://10.0.0.5:9999"


def test_port_variables_replace_the_default_ports() -> None:
    env = {**GNS3_NODE_IPS, "FL_SERVER_PORT": "9081", "POLICY_ENGINE_PORT": "5001", "SDN_CONTROLLER_PORT": "8080"}
    assert source_urls(env) == {
        "fl": "http://192.168.141.10:9081",
        "policy": "http://192.168.141.20:5001",
        "sdn": "http://192.168.141.41:8080",
    }


def test_host_without_port_gets_the_flopynet_port_not_port_80() -> None:
    env = {"FL_SERVER_HOST": "fl", "POLICY_ENGINE_HOST": "pe", "SDN_CONTROLLER_HOST": "sdn"}
    assert source_urls(env) == {
        "fl": f"http://fl:{DEFAULT_PORTS['FL_SERVER']}",
        "policy": f"http://pe:{DEFAULT_PORTS['POLICY_ENGINE']}",
        "sdn": f"http://sdn:{DEFAULT_PORTS['SDN_CONTROLLER']}",
    }


def test_flopynet_api_port_names_set_the_collector_port() -> None:
    assert resolved_env({**GNS3_NODE_IPS, "API_PORT": "8002"})["COLLECTOR_PORT"] == "8002"
    assert resolved_env({**GNS3_NODE_IPS, "METRICS_API_PORT": "8003", "API_PORT": "8002"})["COLLECTOR_PORT"] == "8003"
    assert resolved_env({**GNS3_NODE_IPS, "COLLECTOR_PORT": "8000", "API_PORT": "8002"})["COLLECTOR_PORT"] == "8000"


def test_spec_gns3_environment_without_an_sdn_address_fails_naming_the_variables() -> None:
    # The spec's node environment names no SDN controller, while the container config enables the SDN monitor:
    # that must be a clear error, not a silent poll of http://sdn-controller:8181 that never resolves in GNS3.
    result = run_entrypoint({**SPEC_GNS3_ENV, "FLCOLLECTOR_DRY_RUN": "1"}, "run")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "[[monitors.sdn]] has no address" in result.stderr
    for variable in ("SDN_CONTROLLER_URL", "NODE_IP_SDN_CONTROLLER", "SDN_CONTROLLER_HOST", "NETWORK_MONITOR_ENABLED"):
        assert variable in result.stderr
    assert f"default {DEFAULT_PORTS['SDN_CONTROLLER']}" in result.stderr  # the agent's table, the one copy
    assert "monitors.fl" not in result.stderr and "monitors.policy" not in result.stderr


def test_no_address_at_all_names_every_enabled_source() -> None:
    result = run_entrypoint({}, "--print-env")
    assert result.returncode == 2
    for source in ("fl", "policy", "sdn"):
        assert f"[[monitors.{source}]] has no address" in result.stderr


def test_a_disabled_source_needs_no_address() -> None:
    env = {**SPEC_GNS3_ENV, "NETWORK_MONITOR_ENABLED": "false"}
    assert "SDN_CONTROLLER_URL" not in resolved_env(env)


def test_a_switched_off_source_is_not_monitored() -> None:
    result = run_entrypoint({**SPEC_GNS3_ENV, "NETWORK_MONITOR_ENABLED": "false", "FLCOLLECTOR_DRY_RUN": "1"}, "run")
    assert result.returncode == 0, result.stderr
    assert [table.get("enabled") for table in json.loads(result.stdout)["monitors"]["sdn"]] == [False]


def test_a_url_in_the_config_file_is_an_address(tmp_path: Path) -> None:
    config = tmp_path / "own.toml"
    config.write_text('[[monitors.fl]]\nurl = "http://fl.example:8081"\n\n[[monitors.policy]]\nenabled = false\n')
    env = resolved_env({"FLCOLLECTOR_CONFIG": str(config)})
    assert env["FLCOLLECTOR_CONFIG"] == str(config)
    assert "FL_SERVER_URL" not in env  # nothing to derive: the agent reads the file's url


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**GNS3_NODE_IPS, "FL_SERVER_PORT": "eighty"}, "FL_SERVER_PORT must be a port number"),
        ({**GNS3_NODE_IPS, "SDN_CONTROLLER_PORT": "70000"}, "SDN_CONTROLLER_PORT must be a port number"),
        ({**GNS3_NODE_IPS, "POLICY_ENGINE_URL": "policy-engine:5000"}, "POLICY_ENGINE_URL must be an http://"),
        ({**GNS3_NODE_IPS, "COLLECTOR_PORT": "http"}, "COLLECTOR_PORT must be a port number"),
        ({**GNS3_NODE_IPS, "SERVICE_TYPE": "fl-server"}, "SERVICE_TYPE is 'fl-server'"),
    ],
)
def test_bad_values_fail_with_exit_2_and_a_message(env: dict[str, str], message: str) -> None:
    result = run_entrypoint(env, "--print-env")
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_dry_run_resolves_the_gns3_config_the_spec_describes() -> None:
    result = run_entrypoint({**GNS3_NODE_IPS, "SERVICE_TYPE": "collector", "FLCOLLECTOR_DRY_RUN": "1"}, "run")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert [t["url"] for t in config["monitors"]["fl"]] == ["http://192.168.141.10:8081"]
    assert [t["url"] for t in config["monitors"]["policy"]] == ["http://192.168.141.20:5000"]
    assert [t["url"] for t in config["monitors"]["sdn"]] == ["http://192.168.141.41:8181"]
    assert "system" in config["monitors"]
    assert set(config["sinks"]) >= {"sqlite", "jsonl", "cache"}
    server = config["listeners"]["server"][0]
    assert (server["host"], server["port"]) == ("0.0.0.0", 8000)
    assert config["agent"]["data_dir"] == str(local_container_toml().parent / "app" / "data")


def test_dry_run_applies_the_agents_own_variables() -> None:
    env = {**GNS3_NODE_IPS, "COLLECTOR_PORT": "8010", "LOG_LEVEL": "debug", "FLCOLLECTOR_DRY_RUN": "1"}
    result = run_entrypoint(env, "run")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["listeners"]["server"][0]["port"] == 8010
    assert config["agent"]["log_level"] == "DEBUG"


def test_an_invalid_config_stops_the_start_with_flcollector_checks_message(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[agent]\nintervall = '5s'\n")
    result = run_entrypoint({"FLCOLLECTOR_CONFIG": str(config), "FLCOLLECTOR_DRY_RUN": "1"}, "run")
    assert result.returncode == 2
    assert "intervall" in result.stderr and str(config) in result.stderr


def test_any_other_command_runs_with_the_resolved_environment() -> None:
    result = run_entrypoint({**GNS3_NODE_IPS, "API_PORT": "8002"}, "printenv", "SDN_CONTROLLER_HOST", "COLLECTOR_PORT",
                            "FLCOLLECTOR_CONFIG")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["192.168.141.41", "8002", str(local_container_toml())]
