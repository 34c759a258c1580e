"""The entrypoint refuses to start when a directory the config writes to is not writable, before the agent starts.

The entrypoint runs for real under bash in a temporary directory. Root can write through any permission bits, so
as root a directory is made read-only with a read-only bind mount in a private mount namespace (``unshare``), which
the kernel refuses to write for everyone; as any other user, ``chmod 0555`` does it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from container_helpers import ENTRYPOINT, base_env, moved_container_toml

ADDRESSES = {
    "FL_SERVER_URL": "http://fl-server:8081",
    "POLICY_ENGINE_URL": "http://policy-engine:5000",
    "SDN_CONTROLLER_URL": "http://sdn-controller:8181",
    "FLCOLLECTOR_DRY_RUN": "1",  # validate and print the config instead of starting: nothing is contacted
}


def dry_run(config: Path, read_only: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``entrypoint.sh run`` (dry run) with ``config``, and ``read_only`` made unwritable for this process."""
    command = ["bash", str(ENTRYPOINT), "run"]
    if read_only is not None and os.geteuid() == 0:
        if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
            pytest.skip("as root, a read-only directory needs Linux's unshare (util-linux)")
        script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(read_only), *command]
    elif read_only is not None:
        read_only.chmod(0o555)
    try:
        return subprocess.run(command, env=base_env(FLCOLLECTOR_CONFIG=str(config), **ADDRESSES, **env),
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        if read_only is not None:
            read_only.chmod(0o755)


def app_config(tmp_path: Path) -> Path:
    """config/container.toml with /app under tmp_path, its three directories made as the image makes them."""
    for name in ("data", "logs", "exports"):
        (tmp_path / "app" / name).mkdir(parents=True)
    return moved_container_toml(tmp_path)


def test_an_unwritable_archive_directory_stops_the_start_naming_it_and_the_uid(tmp_path: Path) -> None:
    # The image's /app/logs volume mounted from a directory the agent's uid cannot write: before, the agent started
    # and dropped every JSONL record.
    logs = tmp_path / "app" / "logs"
    result = dry_run(app_config(tmp_path), read_only=logs)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "", "the agent was started (or the config printed) despite the unwritable directory"
    assert f"{logs} ([sinks.jsonl] directory) is not writable for uid {os.getuid()}" in result.stderr
    assert f"`chown {os.getuid()}` on the host directory" in result.stderr  # how to mend it
    problems = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(problems) == 1, problems  # the data and exports directories are fine


def test_an_unwritable_data_dir_names_both_keys_that_write_there(tmp_path: Path) -> None:
    data = tmp_path / "app" / "data"
    result = dry_run(app_config(tmp_path), read_only=data)
    assert result.returncode == 2
    assert f"{data} ([agent] data_dir, [sinks.sqlite] path) is not writable for uid {os.getuid()}" in result.stderr
    assert "flcollector.db" not in result.stderr  # the file inside an unwritable directory is not reported again


def test_a_data_dir_that_cannot_be_created_fails(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("")
    result = dry_run(app_config(tmp_path), DATA_DIR=str(tmp_path / "plain-file" / "data"))
    assert result.returncode == 2
    data = tmp_path / "plain-file" / "data"
    assert f"{data} ([agent] data_dir, [sinks.sqlite] path) cannot be created" in result.stderr
    assert f"({tmp_path / 'plain-file'} is not a directory)" in result.stderr


def test_relative_paths_are_checked_under_the_data_dir(tmp_path: Path) -> None:
    config = tmp_path / "relative.toml"
    config.write_text(
        f'[agent]\ndata_dir = "{tmp_path / "data"}"\n'
        '[[sinks.sqlite]]\npath = "store/flcollector.db"\n'
        '[[sinks.jsonl]]\ndirectory = "archive"\n'
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "archive").write_text("a file where the archive directory goes")
    (tmp_path / "data" / "store" / "flcollector.db").mkdir(parents=True)
    result = dry_run(config, FL_MONITOR_ENABLED="false")
    assert result.returncode == 2
    assert f"{tmp_path / 'data' / 'archive'} ([sinks.jsonl] directory) is not a directory" in result.stderr
    assert f"{tmp_path / 'data' / 'store' / 'flcollector.db'} ([sinks.sqlite] path) is a directory" in result.stderr


def test_directories_that_do_not_exist_yet_are_fine_when_they_can_be_created(tmp_path: Path) -> None:
    # The agent creates its directories; the image's volumes exist already, a local run's may not.
    result = dry_run(moved_container_toml(tmp_path))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "app").exists(), "the check must not create anything itself"


def test_only_the_options_that_write_are_checked(tmp_path: Path) -> None:
    """The places checked are the options whose ``option_doc`` says they write (the websocket sink's ``path`` is a
    route, not a file: as the image's uid, ``/ws`` could not be created and the image refused to start)."""
    from container_helpers import load_container_module
    from flcollector.config import load_config

    preflight = load_container_module("preflight")
    config = load_config(moved_container_toml(tmp_path), env={})
    app = tmp_path / "app"
    assert {path: keys for path, (_, keys) in preflight.written_paths(config).items()} == {
        app / "data": ["[agent] data_dir", "[sinks.sqlite] path"],
        app / "data" / "flcollector.db": ["[sinks.sqlite] path"],
        app / "logs": ["[sinks.jsonl] directory"],
        app / "exports": ["[listeners.export] directory"],
    }
