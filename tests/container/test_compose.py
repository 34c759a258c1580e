"""container/compose.yaml: the spec's collector service, wired to the emulators, consistent with the image and docs."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import yaml
from container_helpers import CONTAINER, REPO, parse_env_lines, run_entrypoint
from flcollector.emulators.__main__ import EMULATORS

COMPOSE = CONTAINER / "compose.yaml"


def compose() -> dict[str, Any]:
    """The compose file as data (anchors resolved)."""
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever of the two compose spellings it uses."""
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_collector_is_the_spec_service() -> None:
    collector = compose()["services"]["collector"]
    assert collector["container_name"] == "collector"
    assert collector["ports"] == ["8083:8000"]
    assert collector["networks"]["flopynet"]["ipv4_address"] == "192.168.100.40"
    assert sorted(v.split(":")[1] for v in collector["volumes"]) == ["/app/data", "/app/exports", "/app/logs"]
    # the variables of the spec's "Docker Configuration" service, with its values
    spec_env = {
        "SERVICE_TYPE": "collector",
        "NETWORK_MONITOR_ENABLED": "true",
        "FL_SERVER_HOST": "fl-server",
        "FL_SERVER_PORT": "8081",
        "POLICY_ENGINE_HOST": "policy-engine",
        "POLICY_ENGINE_URL": "http://policy-engine:5000",
        "SDN_CONTROLLER_URL": "http://sdn-controller:8181",
        "LOG_LEVEL": "INFO",
    }
    assert environment(collector).items() >= spec_env.items()


def test_the_collector_waits_for_healthy_sources() -> None:
    depends = compose()["services"]["collector"]["depends_on"]
    assert {name: cond["condition"] for name, cond in depends.items()} == {
        "fl-server": "service_healthy",
        "policy-engine": "service_healthy",
        "sdn-controller": "service_healthy",
    }


def test_every_service_uses_the_image_built_from_the_repository() -> None:
    services = compose()["services"]
    images = {service["image"] for service in services.values()}
    assert len(images) == 1
    for service in services.values():
        assert service["build"] == {"context": "..", "dockerfile": "container/Dockerfile"}
        assert (COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == (
            CONTAINER / "Dockerfile"
        )


def test_the_image_tag_follows_the_package_version() -> None:
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert version is not None
    assert compose()["services"]["collector"]["image"] == f"flcollector:{version[1]}"


def test_emulators_serve_on_the_addresses_the_collector_resolves() -> None:
    services = compose()["services"]
    result = run_entrypoint(environment(services["collector"]), "--print-env")
    assert result.returncode == 0, result.stderr
    resolved = parse_env_lines(result.stdout)
    for service_name, variable in (
        ("fl-server", "FL_SERVER_URL"),
        ("policy-engine", "POLICY_ENGINE_URL"),
        ("sdn-controller", "SDN_CONTROLLER_URL"),
    ):
        service = services[service_name]
        assert service["entrypoint"] == ["python", "-m", "flcollector.emulators"]
        command = service["command"]
        assert command[0] == service_name and service_name in EMULATORS
        port = command[command.index("--port") + 1]
        assert port == str(EMULATORS[service_name][2]), "the emulator listens on FLOPY-NET's port"
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert resolved[variable] == f"http://{service_name}:{port}"
        health = service["healthcheck"]["test"]
        assert health[:3] == ["CMD", "python", "-c"] and f"127.0.0.1:{port}/health" in health[3]
        compile(health[3], "<healthcheck>", "exec")


def test_the_network_is_flopynets_docker_subnet() -> None:
    data = compose()
    assert data["networks"]["flopynet"]["ipam"]["config"] == [{"subnet": "192.168.100.0/24"}]
    addresses = [s["networks"]["flopynet"]["ipv4_address"] for s in data["services"].values()]
    assert len(set(addresses)) == len(addresses)
    assert all(a.startswith("192.168.100.") for a in addresses)
    assert set(data["volumes"]) == {"collector_data", "collector_exports", "collector_logs"}


def test_the_stop_grace_period_outlasts_the_sink_flush() -> None:
    grace = compose()["services"]["collector"]["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > 10  # [agent] flush_grace defaults to 10 s


def test_the_guide_names_the_same_image_ports_and_commands() -> None:
    guide = (REPO / "README.md").read_text()
    assert "container/compose.yaml" in guide, "README.md has no container guide"
    image = compose()["services"]["collector"]["image"]
    assert f"docker build -f container/Dockerfile -t {image} ." in guide
    assert "docker compose -f container/compose.yaml up --build" in guide
    assert "8083:8000" in guide or "-p 8083:8000" in guide
    template = json.loads((CONTAINER / "gns3" / "collector.json").read_text())
    assert template["template"]["image"] == image
    # every `docker run -e NAME=` in the guide is a variable the entrypoint or the agent knows
    script = (CONTAINER / "entrypoint.sh").read_text()
    known = set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", script))
    for prefix in re.findall(r'^\s*"\w+\|([A-Z_]+)\|\d+\|[A-Z_]+"$', script, re.M):  # the SOURCES table
        known |= {f"{prefix}_URL", f"{prefix}_HOST", f"{prefix}_PORT", f"NODE_IP_{prefix}"}
    known |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', (REPO / "core" / "config.py").read_text()))
    for line in guide.splitlines():
        if "docker run" in line or line.strip().startswith("-e "):
            for token in shlex.split(line.replace("\\", " ")):
                if re.fullmatch(r"[A-Z][A-Z0-9_]+=.*", token):
                    assert token.split("=", 1)[0] in known, token
