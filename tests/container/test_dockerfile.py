"""container/Dockerfile, lint-level: the instructions the issue and the spec require, checked without Docker."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from typing import Any

from container_helpers import CONTAINER, CONTAINER_TOML, REPO, load_container_module
from flcollector.config import read_toml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def test_the_base_is_pinned_by_debian_and_python_version() -> None:
    assert args_of("FROM") == ["${BASE_IMAGE}"]
    (default,) = [rest.split("=", 1)[1] for rest in args_of("ARG") if rest.startswith("BASE_IMAGE=")]
    # the tag test-image.sh makes, and refuses to make from anything else: Debian point release and Python version
    assert re.fullmatch(r"localhost/flcollector-base:debian12\.\d+-python3\.11\.\d+", default), default
    assert "latest" not in default


def test_dependencies_are_installed_from_the_lock_before_the_source_is_copied() -> None:
    steps = instructions()
    lock_install = next(i for i, (kw, rest) in enumerate(steps) if kw == "RUN" and "constraints.txt" in rest)
    assert "pip install --requirement /opt/flcollector/constraints.txt" in steps[lock_install][1]
    source = re.compile(r"\b(core|plugins|setup\.py)\b")
    copied = [i for i, (kw, rest) in enumerate(steps) if kw == "COPY" and source.search(rest)]
    assert copied and min(copied) > lock_install, "a code edit would reinstall numpy and pyarrow"
    copies_before = [rest for kw, rest in steps[:lock_install] if kw == "COPY"]
    assert copies_before == ["container/constraints.txt /opt/flcollector/constraints.txt"]


def locked() -> dict[str, str]:
    """The lock's ``name -> version`` (canonical names)."""
    pins = {}
    for line in (CONTAINER / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def test_the_lock_pins_every_dependency_of_pyproject_with_the_parquet_and_report_extras() -> None:
    project = read_pyproject()
    pins = locked()
    extras = project["optional-dependencies"]
    texts = [*project["dependencies"], *extras["parquet"], *extras["report"]]
    for requirement in map(Requirement, texts):
        if requirement.marker is not None and not requirement.marker.evaluate({"python_version": "3.11"}):
            continue  # e.g. tomli, for Python < 3.11 only
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not locked: run container/base-image.sh lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} vs {requirement}"
    assert "pyarrow" in pins  # the parquet extra: `format=parquet` works in the image
    assert "matplotlib" in pins  # the report extra: /api/v1/report works in the image
    assert "setuptools" in pins  # flcollector itself is built without build isolation, from the lock alone


def read_pyproject() -> dict[str, Any]:
    """pyproject.toml's [project] table."""
    _, tables = read_toml(REPO / "pyproject.toml")
    project = tables["project"]
    assert isinstance(project, dict)
    return project


def test_runs_as_a_named_non_root_user_with_a_shell_for_gns3() -> None:
    users = args_of("USER")
    assert users, "no USER: the agent would run as root"
    assert users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    # GNS3 starts the node's command with `su <image user>`, which needs the user to exist by name with a shell.
    created = " ".join(args_of("RUN"))
    assert re.search(rf"useradd .*--shell /bin/(ba)?sh .*\b{users[-1]}\b", created)


def test_installs_flcollector_from_the_repo_with_the_parquet_and_report_extras_and_no_index() -> None:
    runs = " && ".join(args_of("RUN"))
    lock = "/opt/flcollector/constraints.txt"
    assert f"pip install --no-index --no-build-isolation --constraint {lock} '.[parquet,report]'" in runs
    assert "pip check" in runs
    assert "[dev]" not in runs and " -e " not in runs


def test_the_users_home_is_its_own() -> None:
    created = " ".join(args_of("RUN"))
    assert re.search(r"useradd .*--home-dir /home/flcollector --create-home", created)


def test_labels_say_version_revision_and_source_and_come_last() -> None:
    steps = instructions()
    (label,) = [rest for kw, rest in steps if kw == "LABEL"]
    for key in ("version", "revision", "source", "title", "licenses"):
        assert f"org.opencontainers.image.{key}=" in label
    version = next(rest for kw, rest in steps if kw == "ARG" and rest.startswith("VERSION="))
    assert version == f"VERSION={read_pyproject()['version']}"
    # a new revision must not invalidate the cached layers: its ARG comes after the last RUN
    last_run = max(i for i, (kw, _) in enumerate(steps) if kw == "RUN")
    assert all(i > last_run for i, (kw, rest) in enumerate(steps) if kw == "ARG" and rest.startswith("REVISION"))


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


def test_healthcheck_runs_the_entrypoints_health_check() -> None:
    # the entrypoint resolves the environment as for `run`; healthcheck.py asks where the config says the agent is
    (healthcheck,) = args_of("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    assert json.loads(command) == ["/app/entrypoint.sh", "--health"]
    assert "--timeout=" in options and "--interval=" in options and "--start-period=" in options
    copied = " ".join(args_of("COPY"))
    assert "container/healthcheck.py" in copied and "container/preflight.py" in copied
    # the request's own timeout leaves the engine's room for bash and Python to start, so a slow answer is reported
    engine_timeout = re.search(r"--timeout=(\d+)s", options)
    assert engine_timeout is not None
    assert int(engine_timeout[1]) >= load_container_module("healthcheck").TIMEOUT + 1.5


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
