"""Turn container/compose.yaml into the podman commands that run it (container/test-image.sh has no compose tool).

Usage: ``compose_podman.py COMPOSE_FILE PROJECT`` prints a plan, one step a line, each argument shell-quoted:

    network NAME ARGS...             podman network create ARGS... NAME
    volume NAME                      podman volume create NAME
    wait CONTAINER                   a dependency (depends_on: service_healthy) must be healthy first
    run SERVICE CONTAINER ARGS...    podman run --detach ARGS... (image and command included)

Networks, volumes and containers are named ``PROJECT-<name>`` and labelled ``flcollector.test=PROJECT``, so a run
never touches anything it did not make. ``${VAR}`` and ``${VAR:-default}`` are interpolated from the environment,
as compose does. Every key the file uses must be one translated here: any other is an error (exit 2) naming it, so
the test can never skip part of the file in silence.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

TOP_KEYS = {"name", "services", "networks", "volumes"}
SERVICE_KEYS = {
    "image", "build", "pull_policy", "container_name", "entrypoint", "command", "environment", "ports", "networks",
    "volumes", "healthcheck", "depends_on", "restart", "stop_grace_period",
}
HEALTH_KEYS = {"test", "interval", "timeout", "retries", "start_period"}
VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$\$")


class ComposeError(Exception):
    """A compose file this translation does not understand; the message names the key."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """``${VAR}``/``${VAR:-default}`` replaced in every string of ``value`` (``$$`` is a literal ``$``)."""
    if isinstance(value, str):
        return VARIABLE.sub(lambda m: "$" if m[0] == "$$" else env.get(m[1]) or (m[2] or ""), value)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def seconds(duration: str) -> int:
    """Compose's ``20s``/``1m30s`` as whole seconds."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    if not duration or parts is None:
        raise ComposeError(f"cannot read the duration {duration!r}")
    return int(parts[1] or 0) * 60 + int(parts[2] or 0)


def unknown(keys: Any, allowed: set[str], where: str) -> None:
    """Fail on a key outside ``allowed`` (``x-`` extension keys are compose's comments)."""
    extra = sorted(k for k in keys if k not in allowed and not str(k).startswith("x-"))
    if extra:
        known = ", ".join(sorted(allowed))
        raise ComposeError(f"{where}: {', '.join(extra)} not translated for podman (known: {known})")


def environment(service: Mapping[str, Any]) -> list[str]:
    """``NAME=value`` items, whichever of compose's two spellings the service uses."""
    env = service.get("environment", [])
    return list(env) if isinstance(env, list) else [f"{key}={value}" for key, value in env.items()]


def health_args(check: Mapping[str, Any], where: str) -> list[str]:
    """podman's --health-* flags for a compose ``healthcheck``."""
    unknown(check, HEALTH_KEYS, f"{where}.healthcheck")
    test = check["test"]
    if isinstance(test, list) and test[0] == "CMD":
        args = ["--health-cmd", json.dumps(test[1:])]
    elif isinstance(test, list) and test[0] == "CMD-SHELL":
        args = ["--health-cmd", test[1]]
    else:
        raise ComposeError(f"{where}.healthcheck.test must be a CMD or CMD-SHELL list")
    for key, flag in (("interval", "--health-interval"), ("timeout", "--health-timeout"),
                      ("start_period", "--health-start-period")):
        if key in check:
            args += [flag, f"{seconds(check[key])}s"]
    if "retries" in check:
        args += ["--health-retries", str(check["retries"])]
    return args


def run_args(name: str, service: Mapping[str, Any], project: str) -> list[str]:
    """``podman run --detach`` arguments for one service, image and command last."""
    where = f"services.{name}"
    unknown(service, SERVICE_KEYS, where)
    container = f"{project}-{service.get('container_name', name)}"
    args = ["--name", container, "--label", f"flcollector.test={project}"]
    if service.get("pull_policy") in ("never", "build"):
        args += ["--pull", "never"]
    for item in environment(service):
        args += ["--env", item]
    for port in service.get("ports", []):
        args += ["--publish", str(port)]
    for network, settings in (service.get("networks") or {}).items():
        args += ["--network", f"{project}-{network}"]
        for alias in dict.fromkeys([name, service.get("container_name", name)]):
            args += ["--network-alias", alias]
        if settings and "ipv4_address" in settings:
            args += ["--ip", settings["ipv4_address"]]
    for volume in service.get("volumes", []):
        source, target = volume.split(":", 1)
        args += ["--volume", f"{project}-{source}:{target}"]
    if "healthcheck" in service:
        args += health_args(service["healthcheck"], where)
    if "restart" in service:
        args += ["--restart", service["restart"]]
    if "stop_grace_period" in service:
        args += ["--stop-timeout", str(seconds(service["stop_grace_period"]))]
    if "entrypoint" in service:
        args += ["--entrypoint", json.dumps(service["entrypoint"])]
    return [*args, service["image"], *service.get("command", [])]


def start_order(services: Mapping[str, Any]) -> list[str]:
    """Services with their dependencies first (compose's order), failing on a cycle or an unknown name."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path or name not in services:
            raise ComposeError(f"services.{path[-1]}.depends_on: {name!r} is a cycle or not a service")
        for dependency in services[name].get("depends_on", {}):
            visit(dependency, (*path, name))
        order.append(name)

    for name in services:
        visit(name, ())
    return order


def plan(data: Mapping[str, Any], project: str) -> Iterator[list[str]]:
    """The steps that run the compose file, as argument lists (see the module docstring)."""
    unknown(data, TOP_KEYS, "the file")
    for network, settings in (data.get("networks") or {}).items():
        subnets = [pool["subnet"] for pool in ((settings or {}).get("ipam") or {}).get("config", [])]
        args = [f"--label=flcollector.test={project}", *(f"--subnet={subnet}" for subnet in subnets)]
        yield ["network", f"{project}-{network}", *args]
    for volume in data.get("volumes") or {}:
        yield ["volume", f"{project}-{volume}"]
    services = data["services"]
    for name in start_order(services):
        depends = services[name].get("depends_on", {})
        for dependency, condition in (depends.items() if isinstance(depends, dict) else []):
            if condition.get("condition") != "service_healthy":
                raise ComposeError(f"services.{name}.depends_on.{dependency}: only service_healthy is translated")
            yield ["wait", f"{project}-{services[dependency].get('container_name', dependency)}"]
        yield ["run", name, f"{project}-{services[name].get('container_name', name)}",
               *run_args(name, services[name], project)]


def main(argv: list[str]) -> int:
    """Print the plan for ``argv = [COMPOSE_FILE, PROJECT]``."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        data = interpolate(yaml.safe_load(Path(argv[0]).read_text()), os.environ)
        for step in plan(data, argv[1]):
            print(shlex.join(step))
    except (ComposeError, KeyError) as exc:
        print(f"compose_podman: {argv[0]}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
