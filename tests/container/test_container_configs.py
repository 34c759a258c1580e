"""config/container.toml and config/scenarios/gns3.toml: valid for the agent, and saying what the spec says."""

from __future__ import annotations

import subprocess

import pytest
from container_helpers import BIN, CONTAINER_TOML, GNS3_TOML, base_env
from flcollector.config import load_config

DASHBOARD_ORIGIN = "http://localhost:8085"  # the FLOPY-NET dashboard (spec: "Dashboard localhost:8085")


@pytest.mark.parametrize("path", [CONTAINER_TOML, GNS3_TOML], ids=["container", "gns3"])
def test_flcollector_check_accepts_the_file(path: object) -> None:
    result = subprocess.run(
        [str(BIN / "flcollector"), "check", "-c", str(path)],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: OK")


@pytest.mark.parametrize("path", [CONTAINER_TOML, GNS3_TOML], ids=["container", "gns3"])
def test_the_container_layout(path: object) -> None:
    config = load_config(path, env={})
    assert config.agent.data_dir == "/app/data"
    names = {kind: [c.component for c in config.of_kind(kind)] for kind in ("monitor", "sink", "listener")}
    assert {"fl", "policy", "sdn", "system"} <= set(names["monitor"])
    assert names["sink"] == ["sqlite", "jsonl", "cache", "websocket"]
    (jsonl,) = [c for c in config.of_kind("sink") if c.component == "jsonl"]
    assert jsonl.options.directory == "/app/logs"  # the spec's JSON Lines place, the image's /app/logs volume
    export, server = config.of_kind("listener")
    assert export.options.directory == "/app/exports"  # the image's exports volume (EXPORTS_DIR overrides it)
    assert (server.options.host, server.options.port) == ("0.0.0.0", 8000)
    assert DASHBOARD_ORIGIN in server.options.cors_origins


def test_container_config_names_no_source_address() -> None:
    # Addresses come from the environment; the entrypoint refuses to start without them.
    config = load_config(CONTAINER_TOML, env={})
    for monitor in ("fl", "policy", "sdn"):
        (table,) = config.resolved["monitors"][monitor]
        assert "url" not in table


def test_gns3_scenario_uses_the_static_addresses_of_the_spec() -> None:
    config = load_config(GNS3_TOML, env={})
    urls = {c.component: c.options.url for c in config.of_kind("monitor") if hasattr(c.options, "url")}
    assert urls == {
        "fl": "http://192.168.141.10:8081",
        "policy": "http://192.168.141.20:5000",
        "sdn": "http://192.168.141.41:8181",
    }
    (probe,) = [c for c in config.of_kind("monitor") if c.component == "probe"]
    assert all(target.startswith("192.168.141.") for target in probe.options.targets)
    assert set(probe.options.labels.values()) == {"fl-server", "policy-engine", "sdn-controller"}


def test_gns3_scenario_classifies_fl_traffic_by_the_gns3_addresses() -> None:
    from flcollector.plugins.sdn.traffic import built_in_rules, classify

    config = load_config(GNS3_TOML, env={})
    (sdn,) = [c for c in config.of_kind("monitor") if c.component == "sdn"]
    rules = built_in_rules(sdn.options)
    # a client's gRPC to the FL server, on any port the client picked: FL; its metrics API: control
    assert classify(rules, {"192.168.141.101", "192.168.141.10"}, {52114, 9000}) == ("fl", "fl_server")
    assert classify(rules, {"192.168.141.40", "192.168.141.10"}, {41000, 8081})[0] == "control"
    assert classify(rules, {"192.168.141.101", "192.168.141.20"}, {41000, 5000})[0] == "control"
    assert classify(rules, {"192.168.141.101", "192.168.141.102"}, {41000, 9999})[0] == "background"


def test_the_environment_still_beats_the_gns3_scenario_file() -> None:
    config = load_config(GNS3_TOML, env={"FL_SERVER_URL": "http://10.1.2.3:8081", "COLLECTOR_PORT": "8001"})
    (fl,) = [c for c in config.of_kind("monitor") if c.component == "fl"]
    assert fl.options.url == "http://10.1.2.3:8081"
    [server] = [c for c in config.of_kind("listener") if c.component == "server"]
    assert server.options.port == 8001
