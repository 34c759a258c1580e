"""``python -m flcollector.emulators NAME``: one emulated source per process, as the compose example runs them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from flcollector.emulators.__main__ import EMULATORS, build_emulator, build_parser
from flcollector.emulators.base import Emulator


@pytest.mark.parametrize("name", sorted(EMULATORS))
def test_every_name_builds_the_emulator_of_that_service(name: str) -> None:
    emulator = build_emulator(name)
    assert isinstance(emulator, Emulator)
    assert emulator.label == name


def test_fl_server_and_sdn_options_reach_their_emulators() -> None:
    fl = build_emulator("fl-server", max_rounds=3)
    assert fl.max_rounds == 3
    onos = build_emulator("sdn-controller", flavour="onos")
    assert onos.flavour == "onos"


def test_an_unknown_name_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["dashboard"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'dashboard'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "path"),
    [("fl-server", "/health"), ("policy-engine", "/health"), ("sdn-controller", "/health"), ("gns3", "/v2/version")],
)
def test_serves_with_its_script_running_and_stops_on_sigterm(name: str, path: str, tmp_path: Path) -> None:
    log = tmp_path / "emulator.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "flcollector.emulators", name, "--port", "0", "--tick", "0.05"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 20
        match = None
        while match is None:  # another process: poll its log for the line it writes once listening
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"no 'serving' line:\n{log.read_text()}"
            match = re.search(rf"serving {name} at (http://127\.0\.0\.1:\d+)", log.read_text())
            time.sleep(0.05)
        response = httpx.get(match[1] + path, timeout=5)
        assert response.status_code == 200
        if name == "fl-server":  # the scripted training runs: rounds complete every tick
            while httpx.get(match[1] + "/status", timeout=5).json()["current_round"] < 2:
                assert time.monotonic() < deadline, "the FL script did not run"
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"{name}: SIGTERM received, stopping" in log.read_text()
