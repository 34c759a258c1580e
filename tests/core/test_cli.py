"""The command line: exit codes and one clear message for each kind of bad input."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from flcollector import __version__
from flcollector.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the root logger for its process; in-process tests must give it back as they found it."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    names = ("httpx", "httpcore", "hypercorn.error", "hypercorn.access")
    noisy = {name: logging.getLogger(name).level for name in names}
    yield
    root.setLevel(level)
    root.handlers[:] = handlers
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and __version__ in capsys.readouterr().out


@pytest.mark.parametrize("name", ["collector.toml", "container.toml", "scenarios/host-only.toml",
                                  "scenarios/local-emulation.toml", "scenarios/gns3.toml"])
def test_shipped_configs_pass_check(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-c", str(ROOT / "config" / name)]) == 0
    assert ": OK" in capsys.readouterr().out


def test_the_demo_template_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    """`flcollector demo`'s template is valid as shipped, placeholders and all (the demo fills them in)."""
    assert main(["check", "-c", str(ROOT / "core" / "demo.toml")]) == 0
    assert ": OK" in capsys.readouterr().out


def test_bad_config_exits_2_naming_file_table_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[monitors.system]]\nper_cpus = true\n')
    assert main(["check", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"config error: {config}: [monitors.system] key 'per_cpus': unknown key" in err and "per_cpu" in err


def test_missing_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-c", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: file not found" in capsys.readouterr().err


def test_data_dir_that_cannot_be_created_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = tmp_path / "ok.toml"
    config.write_text("[[monitors.system]]\n[[sinks.jsonl]]\n")
    assert main(["run", "-c", str(config), "--data-dir", str(blocker / "data")]) == 2
    err = capsys.readouterr().err
    assert f"data dir '{blocker / 'data'}' cannot be created" in err and "Traceback" not in err


def test_check_print_shows_env_and_flag_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLECTOR_PORT", "9001")
    monkeypatch.setenv("FL_SERVER_URL", "http://127.0.0.1:18081")
    config = tmp_path / "c.toml"
    config.write_text('[[monitors.fl]]\nurl = "http://fl-server:8081"\n[server]\nport = 8083\n')
    assert main(["check", "-c", str(config), "--print", "--data-dir", str(tmp_path / "d")]) == 0
    resolved = orjson.loads(capsys.readouterr().out)
    assert resolved["listeners"]["server"][0]["port"] == 9001
    assert resolved["monitors"]["fl"][0]["url"] == "http://127.0.0.1:18081"
    assert resolved["agent"]["data_dir"] == str(tmp_path / "d")


def test_once_prints_real_system_metrics(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["once", "-c", str(ROOT / "config" / "scenarios" / "host-only.toml")]) == 0
    records = [orjson.loads(line) for line in capsysbinary.readouterr().out.splitlines()]
    by_name = {r["name"]: r for r in records if r["kind"] == "metric"}
    assert by_name["system_memory"]["fields"]["total_bytes"] > 0
    assert 0 <= by_name["system_cpu"]["fields"]["usage_percent"] <= 100
    assert all(isinstance(r["time_ns"], int) for r in records)


def test_plugins_lists_builtins_with_their_components(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    plugins = {p["name"]: p for p in orjson.loads(capsys.readouterr().out)}
    assert plugins["system"]["origin"] == "built-in" and plugins["system"]["components"] == {"monitor": ["system"]}
    assert plugins["server"]["components"] == {"listener": ["server"]}
