"""container/Dockerfile, lint-level: the instructions the issue and the spec require, checked without Docker."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex

from container_helpers import CONTAINER, CONTAINER_TOML, REPO
from flcollector.config import read_toml

DOCKERFILE = CONTAINER / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """Return ``(INSTRUCTION, arguments)`` pairs, with continuation lines joined and comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    pairs = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def args_of(keyword: str) -> list[str]:
    """Every argument string of ``keyword`` instructions, in order."""
    return [rest for kw, rest in instructions() if kw == keyword]


def test_base_image_is_python_311_slim() -> None:
    assert args_of("FROM") == ["python:3.11-slim"]


def test_runs_as_a_named_non_root_user_with_a_shell_for_gns3() -> None:
    users = args_of("USER")
    assert users, "no USER: the agent would run as root"
    assert users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    # GNS3 starts the node's command with `su <image user>`, which needs the user to exist by name with a shell.
    created = " ".join(args_of("RUN"))
    assert re.search(rf"useradd .*--shell /bin/(ba)?sh .*\b{users[-1]}\b", created)


def test_installs_flcollector_with_a_plain_pip_install_from_the_repo() -> None:
    runs = " && ".join(args_of("RUN"))
    assert "pip install ." in runs
    assert "[dev]" not in runs and " -e " not in runs


def test_every_copied_path_exists_in_the_build_context() -> None:
    # The build context is the repository root; a missing source fails `docker build` at once.
    for rest in args_of("COPY"):
        parts = [p for p in shlex.split(rest) if not p.startswith("--")]
        for source in parts[:-1]:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"


def test_exposes_8000_and_declares_the_three_volumes() -> None:
    assert args_of("EXPOSE") == ["8000"]
    volumes = [v for rest in args_of("VOLUME") for v in json.loads(rest)]
    assert sorted(volumes) == ["/app/data", "/app/exports", "/app/logs"]


def test_the_api_port_matches_the_baked_in_config() -> None:
    _, tables = read_toml(CONTAINER_TOML)
    assert tables["server"]["port"] == 8000
    assert tables["server"]["host"] == "0.0.0.0"
    assert tables["agent"]["data_dir"] == "/app/data"


def test_healthcheck_polls_health_with_python_urllib() -> None:
    (healthcheck,) = args_of("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    code = argv[2]
    compile(code, "<healthcheck>", "exec")  # it must at least be valid Python
    assert "urllib" in code and "/health" in code and "'8000'" in code
    assert "curl" not in healthcheck
    assert "--timeout=" in options and "--interval=" in options


def test_the_config_is_checked_at_build_time() -> None:
    runs = " && ".join(args_of("RUN"))
    assert "flcollector check -c /app/config/container.toml" in runs
    assert "flcollector check -c /app/config/scenarios/gns3.toml" in runs
    assert "FLCOLLECTOR_DRY_RUN=1 /app/entrypoint.sh" in runs


def test_the_entrypoint_execs_the_agent_and_is_the_image_entrypoint() -> None:
    assert json.loads(args_of("ENTRYPOINT")[-1]) == ["/app/entrypoint.sh"]
    assert json.loads(args_of("CMD")[-1]) == ["run"]
    script = (CONTAINER / "entrypoint.sh").read_text()
    assert 'exec "$FLCOLLECTOR" run -c "$CONFIG"' in script  # exec: SIGTERM from `docker stop` reaches the agent
    assert args_of("STOPSIGNAL") == ["SIGTERM"]


def test_the_baked_in_config_path_is_the_default_everywhere() -> None:
    env = " ".join(args_of("ENV"))
    assert "FLCOLLECTOR_CONFIG=/app/config/container.toml" in env
    assert 'CONFIG="${FLCOLLECTOR_CONFIG:-/app/config/container.toml}"' in (CONTAINER / "entrypoint.sh").read_text()


def test_the_build_ignores_local_state_but_nothing_it_copies() -> None:
    lines = (CONTAINER / "Dockerfile.dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for entry in (".venv", ".git", "data", "**/__pycache__"):
        assert entry in ignored
    for rest in args_of("COPY"):
        for source in [p for p in shlex.split(rest) if not p.startswith("--")][:-1]:
            top = source.rstrip("/").split("/")[0]
            assert not any(fnmatch.fnmatch(top, pattern) for pattern in ignored), f"COPY {source} is ignored"
