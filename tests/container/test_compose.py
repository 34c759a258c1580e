"""container/compose.yaml: the spec's collector service, wired to the emulators, consistent with the image and docs."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import yaml
from container_helpers import CONTAINER, REPO, load_container_module, source_urls
from flcollector.emulators.__main__ import EMULATORS

COMPOSE = CONTAINER / "compose.yaml"
compose_podman = load_container_module("compose_podman")


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as data, interpolated as compose does with ``env`` (default: nothing set)."""
    data = compose_podman.interpolate(yaml.safe_load(COMPOSE.read_text()), env or {})
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
    assert collector["networks"]["flopynet"]["ipv4_address"] == "192.168.100.40"
    assert sorted(v.split(":")[1] for v in collector["volumes"]) == ["/app/data", "/app/exports", "/app/logs"]
    # the variables of the spec's "Docker Configuration" service, with its values, less the POLICY_ENGINE_HOST it
    # sets beside POLICY_ENGINE_URL (the URL wins, so the host was never read)
    spec_env = {
        "SERVICE_TYPE": "collector",
        "NETWORK_MONITOR_ENABLED": "true",
        "FL_SERVER_HOST": "fl-server",
        "FL_SERVER_PORT": "8081",
        "POLICY_ENGINE_URL": "http://policy-engine:5000",
        "SDN_CONTROLLER_URL": "http://sdn-controller:8181",
        "LOG_LEVEL": "INFO",
    }
    env = environment(collector)
    assert env.items() >= spec_env.items()
    for prefix in ("FL_SERVER", "POLICY_ENGINE", "SDN_CONTROLLER"):
        assert not (f"{prefix}_URL" in env and f"{prefix}_HOST" in env), f"{prefix}_HOST is unused beside the URL"


def test_the_container_name_does_not_collide_with_flopynets_collector() -> None:
    # FLOPY-NET's own docker-compose.yml names its collector container "collector"; both may run on one host
    assert compose()["services"]["collector"]["container_name"] not in ("collector", "", None)


def test_the_api_is_published_on_loopback_unless_opened() -> None:
    assert compose()["services"]["collector"]["ports"] == ["127.0.0.1:8083:8000"]
    opened = compose({"FLCOLLECTOR_API_BIND": "0.0.0.0", "FLCOLLECTOR_API_PORT": "9083"})
    assert opened["services"]["collector"]["ports"] == ["0.0.0.0:9083:8000"]
    header = COMPOSE.read_text().split("\nname:")[0]
    assert "FLCOLLECTOR_API_BIND=0.0.0.0" in header and "API_AUTH_ENABLED" in header  # how to open it, safely


def test_every_service_restarts_unless_stopped() -> None:
    assert {name: s.get("restart") for name, s in compose()["services"].items()} == dict.fromkeys(
        compose()["services"], "unless-stopped"
    )


def test_the_collector_waits_for_healthy_sources() -> None:
    depends = compose()["services"]["collector"]["depends_on"]
    assert {name: cond["condition"] for name, cond in depends.items()} == {
        "fl-server": "service_healthy",
        "policy-engine": "service_healthy",
        "sdn-controller": "service_healthy",
    }


def test_one_service_builds_the_image_the_others_use() -> None:
    services = compose()["services"]
    assert len({service["image"] for service in services.values()}) == 1
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["collector"]
    build = services["collector"]["build"]
    assert build == {"context": "..", "dockerfile": "container/Dockerfile"}
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == CONTAINER / "Dockerfile"
    for name, service in services.items():
        if name != "collector":  # never pulled from a registry under the same name: the collector builds it
            assert service["pull_policy"] == "never"


def test_the_image_tag_follows_the_package_version() -> None:
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert version is not None
    assert compose()["services"]["collector"]["image"] == f"flcollector:{version[1]}"


def test_emulators_serve_on_the_addresses_the_collector_resolves() -> None:
    services = compose()["services"]
    resolved = source_urls(environment(services["collector"]))
    for service_name, monitor in (("fl-server", "fl"), ("policy-engine", "policy"), ("sdn-controller", "sdn")):
        service = services[service_name]
        assert service["entrypoint"] == ["python", "-m", "flcollector.emulators"]
        command = service["command"]
        assert command[0] == service_name and service_name in EMULATORS
        port = command[command.index("--port") + 1]
        assert port == str(EMULATORS[service_name][2]), "the emulator listens on FLOPY-NET's port"
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert resolved[monitor] == f"http://{service_name}:{port}"
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
    assert "container/test-image.sh" in guide
    assert "-p 127.0.0.1:8083:8000" in guide and "FLCOLLECTOR_API_BIND" in guide
    template = json.loads((CONTAINER / "gns3" / "collector.json").read_text())
    assert template["template"]["image"] == image
    # every `docker run -e NAME=` in the guide is a variable the entrypoint or the agent knows
    script = (CONTAINER / "entrypoint.sh").read_text()
    known = set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", script))
    prefixes = re.findall(r'^\s*"\w+\|([A-Z_]+)\|[A-Z_]+"$', script, re.M)  # the SOURCES table
    assert prefixes == ["FL_SERVER", "POLICY_ENGINE", "SDN_CONTROLLER"]
    for prefix in prefixes:
        known |= {f"{prefix}_URL", f"{prefix}_HOST", f"{prefix}_PORT", f"NODE_IP_{prefix}"}
    known |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', (REPO / "core" / "config.py").read_text()))
    for line in guide.splitlines():
        if re.search(r"\b(docker|podman) run\b", line) or line.strip().startswith("-e "):
            for token in shlex.split(line.replace("\\", " ")):
                if re.fullmatch(r"[A-Z][A-Z0-9_]+=.*", token):
                    assert token.split("=", 1)[0] in known, token
