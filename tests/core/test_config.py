"""Strict config: every error names the file, the table and the key; precedence is CLI > env > file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from flcollector.config import load_config
from flcollector.errors import ConfigError


def _error(make_config, text: str, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        make_config(text, **kw)
    return str(info.value)


def test_unknown_key_names_file_table_key_and_known_keys(make_config) -> None:  # type: ignore[no-untyped-def]
    message = _error(make_config, "[[monitors.scripted]]\ncont = 3\n")
    assert "test.toml" in message and "[monitors.scripted]" in message and "key 'cont'" in message
    assert "known: name, enabled, interval, jitter, timeout, count, script, slow_s" in message


def test_unknown_plugin_lists_known_ones(make_config) -> None:  # type: ignore[no-untyped-def]
    message = _error(make_config, "[[monitors.scripted_typo]]\n")
    assert "unknown monitor 'scripted_typo'" in message and "scripted" in message


def test_unknown_table(make_config) -> None:  # type: ignore[no-untyped-def]
    assert "unknown table [monitor]" in _error(make_config, "[[monitor.scripted]]\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[monitors.scripted]]\ncount = "3"\n', "key 'count': expected int, got '3'"),
        ('[[monitors.scripted]]\ninterval = "5 parsecs"\n', "key 'interval': expected a duration"),
        ('[[monitors.scripted]]\ncount = 2.5\n', "expected int"),
        ('[[sinks.memory]]\nwhen_full = "drop_all"\n', "expected one of 'block', 'drop_oldest', 'drop_newest'"),
        ('[[sinks.memory]]\nbatch_size = 0\n', "key 'batch_size'"),
    ],
)
def test_wrong_types_are_named(make_config, text: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert expected in _error(make_config, text)


def test_toml_syntax_error_gives_line_and_column(make_config) -> None:  # type: ignore[no-untyped-def]
    message = _error(make_config, "[[monitors.scripted]]\ncount = = 3\n")
    assert "TOML syntax error" in message and "line 4" in message and "column" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: file not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_precedence_cli_over_env_over_file(make_config) -> None:  # type: ignore[no-untyped-def]
    text = '[[monitors.scripted]]\ninterval = "7s"\n'
    assert float(make_config(text).agent.interval) == 5.0
    config = make_config(text, env={"COLLECTION_INTERVAL": "9", "LOG_LEVEL": "debug"})
    assert float(config.agent.interval) == 9.0 and config.agent.log_level == "DEBUG"
    config = make_config(text, env={"LOG_LEVEL": "debug"}, overrides={"agent.log_level": "ERROR"})
    assert config.agent.log_level == "ERROR"
    assert float(config.of_kind("monitor")[0].common.interval) == 7.0  # the monitor's own interval wins


def test_bad_env_value_names_the_variable(make_config) -> None:  # type: ignore[no-untyped-def]
    message = _error(make_config, "", env={"COLLECTOR_PORT": "eighty"})
    assert "environment variable COLLECTOR_PORT" in message and "'eighty'" in message


def test_repeated_monitors_get_numbered_instances_and_explicit_duplicates_fail(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config("[[monitors.scripted]]\n[[monitors.scripted]]\n")
    assert [c.instance for c in config.of_kind("monitor")] == ["scripted", "scripted-2"]
    message = _error(make_config, '[[monitors.scripted]]\nname = "x"\n[[monitors.scripted]]\nname = "x"\n')
    assert "'x' is used twice" in message


def test_disabled_instances_are_not_run(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config("[[monitors.scripted]]\nenabled = false\n")
    assert config.of_kind("monitor") == []


def test_validator_errors_blame_the_key_they_are_about() -> None:
    import attrs
    from flcollector.options import OptionError, build_options

    @attrs.define
    class Opts:
        targets: list[str] = attrs.field(factory=list)
        count: int = attrs.field(default=5, validator=attrs.validators.gt(0))

    with pytest.raises(OptionError) as info:
        build_options(Opts, {"targets": ["a:1"], "count": 0})
    assert info.value.key == "count"


def test_a_host_without_a_port_gets_flopynets_default_port() -> None:
    from flcollector.config import DEFAULT_PORTS, env_overrides

    found = {path: value for _var, path, value in env_overrides(
        {"FL_SERVER_HOST": "fl-server", "POLICY_ENGINE_HOST": "pe", "SDN_CONTROLLER_HOST": "sdn",
         "SDN_CONTROLLER_PORT": "9999"})}
    assert found["monitors.fl.url"] == f"http://fl-server:{DEFAULT_PORTS['FL_SERVER']}" == "http://fl-server:8081"
    assert found["monitors.policy.url"] == "http://pe:5000"
    assert found["monitors.sdn.url"] == "http://sdn:9999"  # an explicit port wins


def test_an_enabling_variable_adds_the_component_once_with_its_defaults(make_config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flcollector import config as config_module

    monkeypatch.setitem(config_module.ENV_ENABLES, "MEMORY_SINK_ON", ("sinks", "memory"))
    assert not make_config("").of_kind("sink")
    enabled = make_config("", env={"MEMORY_SINK_ON": "1"}).of_kind("sink")
    assert [c.component for c in enabled] == ["memory"]
    # a config that already has the component keeps its own tables: the variable adds nothing
    kept = make_config('[[sinks.memory]]\nname = "mine"\n', env={"MEMORY_SINK_ON": "1"}).of_kind("sink")
    assert [c.instance for c in kept] == ["mine"]


def test_influxdb_and_redis_variables_enable_and_configure_their_sinks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flcollector.config import load_config

    path = tmp_path / "empty.toml"
    path.write_text(f'[agent]\ndata_dir = "{tmp_path}"\n')
    env = {"INFLUXDB_HOST": "influxdb", "INFLUXDB_BUCKET": "fl", "INFLUXDB_ORG": "lab", "INFLUXDB_TOKEN": "t0k",
           "REDIS_HOST": "redis", "REDIS_PASSWORD": "p@ss", "REDIS_DB": "2"}
    config = load_config(path, env=env)
    sinks = {c.component: c.options for c in config.of_kind("sink")}
    assert sinks["influxdb"].url == "http://influxdb:8086"  # the spec's default port
    assert (sinks["influxdb"].org, sinks["influxdb"].bucket, sinks["influxdb"].token) == ("lab", "fl", "t0k")
    assert sinks["redis"].url == "redis://:p%40ss@redis:6379/2"
    explicit = load_config(path, env={"INFLUXDB_HOST": "db", "INFLUXDB_PORT": "9086", "INFLUXDB_DB": "lab",
                                      "REDIS_URL": "redis://cache:7000/1"})
    sinks = {c.component: c.options for c in explicit.of_kind("sink")}
    assert (sinks["influxdb"].url, sinks["influxdb"].database) == ("http://db:9086", "lab")
    assert sinks["redis"].url == "redis://cache:7000/1"
    assert not load_config(path, env={"INFLUXDB_PORT": "8086", "REDIS_PORT": "6379"}).of_kind("sink")


def test_a_component_sets_defaults_for_the_cores_keys_and_the_config_still_wins(make_config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core_fakes import MemorySink

    monkeypatch.setattr(MemorySink, "common_defaults", {"when_full": "drop_oldest", "flush_interval": "20ms"})
    common = make_config("[[sinks.memory]]\n").of_kind("sink")[0].common
    assert common.when_full == "drop_oldest" and float(common.flush_interval) == 0.02
    common = make_config('[[sinks.memory]]\nwhen_full = "block"\n').of_kind("sink")[0].common
    assert common.when_full == "block" and float(common.flush_interval) == 0.02


def test_the_builtin_default_streams_live_like_the_shipped_configs(tmp_path: Path) -> None:
    from flcollector.config import BUILTIN_DEFAULT

    path = tmp_path / "builtin.toml"
    path.write_text(BUILTIN_DEFAULT)
    sinks = {c.component: c.common for c in load_config(path, env={}).of_kind("sink")}
    assert sinks["websocket"].when_full == "drop_oldest" and float(sinks["websocket"].flush_interval) == 0.02
