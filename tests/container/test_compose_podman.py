"""container/compose_podman.py: the podman plan test-image.sh runs is the compose file, all of it, or an error."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import yaml
from container_helpers import CONTAINER, load_container_module

compose_podman = load_container_module("compose_podman")
COMPOSE = CONTAINER / "compose.yaml"


def plan(env: dict[str, str] | None = None) -> list[list[str]]:
    """The plan for container/compose.yaml under project ``t``, interpolated with ``env``."""
    data = compose_podman.interpolate(yaml.safe_load(COMPOSE.read_text()), env or {})
    return list(compose_podman.plan(data, "t"))


def run_step(service: str, steps: list[list[str]]) -> list[str]:
    """The ``podman run`` arguments of ``service``."""
    (step,) = [step for step in steps if step[:2] == ["run", service]]
    return step[3:]


def flag_values(args: list[str], flag: str) -> list[str]:
    """Every value given to ``flag`` in ``args``."""
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_the_collector_starts_after_its_three_sources_are_healthy() -> None:
    steps = plan()
    kinds = [step[0] for step in steps]
    assert kinds[:2] == ["network", "volume"] and kinds.count("run") == 4
    collector = next(i for i, step in enumerate(steps) if step[:2] == ["run", "collector"])
    waits = {step[1] for step in steps[:collector] if step[0] == "wait"}
    assert waits == {"t-fl-server", "t-policy-engine", "t-sdn-controller"}
    for name in ("fl-server", "policy-engine", "sdn-controller"):
        started = next(i for i, step in enumerate(steps) if step[:2] == ["run", name])
        assert started < steps.index(["wait", f"t-{name}"])


def test_the_collector_runs_as_compose_says() -> None:
    args = run_step("collector", plan())
    assert flag_values(args, "--name") == ["t-flcollector"]
    assert flag_values(args, "--publish") == ["127.0.0.1:8083:8000"]
    assert flag_values(args, "--network") == ["t-flopynet"] and flag_values(args, "--ip") == ["192.168.100.40"]
    assert set(flag_values(args, "--network-alias")) == {"collector", "flcollector"}
    assert sorted(flag_values(args, "--volume")) == [
        "t-collector_data:/app/data", "t-collector_exports:/app/exports", "t-collector_logs:/app/logs",
    ]
    assert flag_values(args, "--restart") == ["unless-stopped"] and flag_values(args, "--stop-timeout") == ["20"]
    assert "--health-cmd" not in args  # the image's own HEALTHCHECK
    assert flag_values(args, "--label") == ["flcollector.test=t"]
    assert args[-1] == "flcollector:0.1.0"


def test_the_emulators_use_the_built_image_and_their_healthchecks() -> None:
    args = run_step("fl-server", plan())
    assert flag_values(args, "--pull") == ["never"]
    assert json.loads(flag_values(args, "--entrypoint")[0]) == ["python", "-m", "flcollector.emulators"]
    health = json.loads(flag_values(args, "--health-cmd")[0])
    assert health[:2] == ["python", "-c"] and "127.0.0.1:8081/health" in health[2]
    assert flag_values(args, "--health-interval") == ["5s"] and flag_values(args, "--health-retries") == ["12"]
    image = args.index("flcollector:0.1.0")
    assert args[image + 1:image + 2] == ["fl-server"]  # the command follows the image


def test_the_published_address_is_interpolated_from_the_environment() -> None:
    args = run_step("collector", plan({"FLCOLLECTOR_API_BIND": "0.0.0.0", "FLCOLLECTOR_API_PORT": "9000"}))
    assert flag_values(args, "--publish") == ["0.0.0.0:9000:8000"]
    assert compose_podman.interpolate("$${A} ${A} ${B:-b} ${C}", {"A": "a"}) == "${A} a b "


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ({"image": "x", "privileged": True}, "services.s: privileged not translated"),
        ({"image": "x", "depends_on": {"y": {"condition": "service_started"}}}, "only service_healthy"),
        ({"image": "x", "healthcheck": {"test": "curl x"}}, "must be a CMD or CMD-SHELL list"),
        ({"image": "x", "stop_grace_period": "soon"}, "cannot read the duration"),
    ],
)
def test_anything_not_translated_is_an_error_naming_it(service: dict[str, object], message: str) -> None:
    data = {"services": {"s": service, "y": {"image": "x"}}}
    with pytest.raises(compose_podman.ComposeError, match=message):
        list(compose_podman.plan(data, "t"))


def test_the_command_line_prints_one_quoted_step_a_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLCOLLECTOR_API_")}  # the defaults, as plan()
    result = subprocess.run([sys.executable, str(CONTAINER / "compose_podman.py"), str(COMPOSE), "t"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert [shlex.split(line) for line in result.stdout.splitlines()] == plan()
