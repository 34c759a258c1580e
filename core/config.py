"""Loading the TOML config, and the one place where precedence lives: CLI > environment > file > defaults.

Everything is strict: an unknown table, key or plugin name, a wrong type or a bad duration is a
:class:`~flcollector.errors.ConfigError` naming the file, the table path and the key, and listing what is known.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs

from .durations import Duration
from .errors import ConfigError
from .loader import Registry, load_registry
from .options import OptionError, build_options, option_names
from .settings import COMMON_BY_KIND, SECTIONS, AgentSettings

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 and older
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_PATH = Path("config/collector.toml")
TOP_LEVEL = ("agent", "server", *SECTIONS)

#: Used when no file is given and ./config/collector.toml does not exist: watch this host, keep everything.
BUILTIN_DEFAULT = """
[[monitors.system]]
[[sinks.sqlite]]
[[sinks.jsonl]]
[[sinks.cache]]
[[sinks.websocket]]
[[listeners.export]]
[server]
"""


@attrs.define
class ComponentConfig:
    """One configured component instance, validated."""

    kind: str
    component: str  # the component name, e.g. "fl"
    instance: str  # unique instance name, e.g. "fl" or "fl-2"
    table: str  # where it came from, e.g. "monitors.fl[0]"
    cls: type
    common: Any
    options: Any
    plugin: str


@attrs.define
class Config:
    """A resolved, validated configuration."""

    file: str
    agent: AgentSettings
    components: list[ComponentConfig]
    registry: Registry
    resolved: dict[str, Any]  # the merged tables after env and CLI overrides, for `flcollector check --print`

    def of_kind(self, kind: str) -> list[ComponentConfig]:
        """Return the enabled instances of ``kind`` in config order."""
        return [c for c in self.components if c.kind == kind and c.common.enabled]


# -- environment ---------------------------------------------------------------------------------------------------


#: FLOPY-NET's default port of each source, used when ``<PREFIX>_HOST`` is set without ``<PREFIX>_PORT``
#: This is the only copy of these ports: the container's entrypoint leaves the port to the agent.
DEFAULT_PORTS: dict[str, int] = {
    "FL_SERVER": 8081, "POLICY_ENGINE": 5000, "SDN_CONTROLLER": 8181, "INFLUXDB": 8086, "REDIS": 6379,
}

#: Variables whose presence enables a component with its default options when the config has none of it, as the
#: spec's deployment expects (``INFLUXDB_HOST`` alone turns the InfluxDB sink on). ``variable -> (section, name)``.
ENV_ENABLES: dict[str, tuple[str, str]] = {
    "GNS3_URL": ("monitors", "gns3"),
    "INFLUXDB_HOST": ("sinks", "influxdb"),
    "INFLUXDB_URL": ("sinks", "influxdb"),
    "REDIS_HOST": ("sinks", "redis"),
    "REDIS_URL": ("sinks", "redis"),
}


def _url_from(env: Mapping[str, str], prefix: str) -> str | None:
    """``<PREFIX>_URL``, else ``http://<PREFIX>_HOST:<port>`` with ``<PREFIX>_PORT`` or FLOPY-NET's default port."""
    if env.get(f"{prefix}_URL"):
        return env[f"{prefix}_URL"]
    host = env.get(f"{prefix}_HOST")
    if host:
        port = env.get(f"{prefix}_PORT") or DEFAULT_PORTS.get(prefix)
        return f"http://{host}:{port}" if port else f"http://{host}"
    return None


def _redis_url_from(env: Mapping[str, str]) -> str | None:
    """``REDIS_URL``, else ``redis://[:REDIS_PASSWORD@]REDIS_HOST:REDIS_PORT/REDIS_DB`` (port 6379, db 0)."""
    if env.get("REDIS_URL"):
        return env["REDIS_URL"]
    host = env.get("REDIS_HOST")
    if not host:
        return None
    password = quote(env["REDIS_PASSWORD"], safe="") if env.get("REDIS_PASSWORD") else ""
    auth = f":{password}@" if password else ""
    port = env.get("REDIS_PORT") or DEFAULT_PORTS["REDIS"]
    return f"redis://{auth}{host}:{port}/{_int(env.get('REDIS_DB') or '0')}"


def node_ips_from(env: Mapping[str, str]) -> dict[str, str]:
    """FLOPY-NET's ``NODE_IP_<NAME>`` variables as ``{node name: address}`` (``NODE_IP_FL_CLIENT_1`` names
    ``fl-client-1``, the GNS3 node's name); empty when none is set."""
    return {
        var.removeprefix("NODE_IP_").lower().replace("_", "-"): value.strip()
        for var, value in sorted(env.items())
        if var.startswith("NODE_IP_") and len(var) > len("NODE_IP_") and value.strip()
    }


def env_enabled(env: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Return ``(variable, section, name)`` for every component that a variable set in ``env`` enables."""
    return [(var, section, name) for var, (section, name) in ENV_ENABLES.items() if env.get(var)]


def apply_enables(tables: dict[str, Any], enables: list[tuple[str, str, str]]) -> None:
    """Add ``[[<section>.<name>]]`` with default options for each enable whose component the tables lack."""
    for _var, section, name in enables:
        entries = tables.setdefault(section, {})
        if isinstance(entries, dict) and name not in entries:
            entries[name] = [{}]


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected an integer, got {text!r}") from None


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise ValueError(f"expected a number of days (decimals allowed), got {text!r}") from None
    if not days >= 0:  # also refuses nan
        raise ValueError(f"expected 0 or more days, got {text!r}")
    return days


def _duration(text: str) -> str:
    Duration.parse(text.strip())  # checked here, so the message names the variable
    return text.strip()


#: ``(variable, dotted path, parser)``: a variable sets the key at the path (``monitors.fl.url`` on every instance);
#: the parser checks and converts its text. Also read by ``python -m flcollector.docs`` to name each key's variable.
ENV_VARIABLES: list[tuple[str, str, Callable[[str], Any]]] = [
    ("COLLECTOR_HOST", "server.host", str),
    ("COLLECTOR_PORT", "server.port", _int),
    ("COLLECTION_INTERVAL", "agent.interval", str),
    ("DATA_DIR", "agent.data_dir", str),
    ("EXPERIMENT_ID", "agent.experiment", str),
    ("LOG_LEVEL", "agent.log_level", lambda s: s.strip().upper()),
    ("SDN_CONTROLLER_TYPE", "monitors.sdn.controller", lambda s: s.strip().lower()),
    ("API_AUTH_ENABLED", "server.auth_enabled", _bool),
    ("API_USERNAME", "server.username", str),
    ("API_PASSWORD", "server.password", str),
    ("API_TOKEN", "server.token", str),
    ("CORS_ORIGINS", "server.cors_origins", lambda s: [o.strip() for o in s.split(",") if o.strip()]),
    ("RETENTION_DAYS", "sinks.sqlite.retention", lambda s: f"{_int(s)}d"),
    ("ENABLE_ANOMALY_DETECTION", "processors.anomaly.enabled", _bool),
    # the export API (the spec's variables)
    ("EXPORTS_DIR", "listeners.export.directory", str),
    ("EXPORT_RETENTION_DAYS", "listeners.export.retention_days", _days),
    ("EXPORT_WAIT", "listeners.export.wait", _duration),
    # FLOPY-NET's switches for its monitors
    ("FL_MONITOR_ENABLED", "monitors.fl.enabled", _bool),
    ("POLICY_MONITOR_ENABLED", "monitors.policy.enabled", _bool),
    ("NETWORK_MONITOR_ENABLED", "monitors.sdn.enabled", _bool),
    # the remote sinks (INFLUXDB_HOST / REDIS_HOST also enable them, see ENV_ENABLES)
    ("INFLUXDB_DB", "sinks.influxdb.database", str),
    ("INFLUXDB_TOKEN", "sinks.influxdb.token", str),
    ("INFLUXDB_ORG", "sinks.influxdb.org", str),
    ("INFLUXDB_BUCKET", "sinks.influxdb.bucket", str),
    # the GNS3 server (FLOPY-NET's collector reads GNS3_URL and GNS3_PROJECT_NAME)
    ("GNS3_URL", "monitors.gns3.url", str),
    ("GNS3_PROJECT_ID", "monitors.gns3.project_id", str),
    ("GNS3_PROJECT_NAME", "monitors.gns3.project_name", str),
    ("GNS3_USER", "monitors.gns3.username", str),
    ("GNS3_PASSWORD", "monitors.gns3.password", str),
    ("GNS3_TOKEN", "monitors.gns3.token", str),
]


#: ``(prefix, dotted path)``: ``<PREFIX>_URL``, else ``http://<PREFIX>_HOST:<PREFIX>_PORT`` sets the URL at the path.
ENV_URLS: list[tuple[str, str]] = [
    ("FL_SERVER", "monitors.fl.url"),
    ("POLICY_ENGINE", "monitors.policy.url"),
    ("SDN_CONTROLLER", "monitors.sdn.url"),
    ("INFLUXDB", "sinks.influxdb.url"),
]


def variables_of(path: str) -> list[str]:
    """The variables that set the key at dotted ``path`` (``monitors.fl.url``), as the docs name them."""
    names = [var for var, dotted, _ in ENV_VARIABLES if dotted == path]
    names += [f"{prefix}_URL, or {prefix}_HOST + {prefix}_PORT" for prefix, dotted in ENV_URLS if dotted == path]
    if path == "sinks.redis.url":
        names.append("REDIS_URL, or REDIS_HOST + REDIS_PORT, REDIS_PASSWORD, REDIS_DB")
    if path == "processors.rounds.node_ips":
        names.append("NODE_IP_<NAME>")
    return names


def env_overrides(env: Mapping[str, str]) -> list[tuple[str, str, Any]]:
    """Return ``(variable, dotted path, value)`` for every recognised variable set in ``env``.

    A path ``monitors.fl.url`` applies to every ``[[monitors.fl]]`` instance; a monitor that is not configured is
    not created by an env variable. Raises ConfigError for a value of the wrong type.
    """
    found: list[tuple[str, str, Any]] = []
    for var, path, parse in ENV_VARIABLES:
        if var in env:
            try:
                found.append((var, path, parse(env[var])))
            except ValueError as exc:
                raise ConfigError(f"environment variable {var}", str(exc)) from None
    node_ips = node_ips_from(env)
    if node_ips:
        found.append(("NODE_IP_*", "processors.rounds.node_ips", node_ips))
    for prefix, path in ENV_URLS:
        url = _url_from(env, prefix)
        if url:
            found.append((f"{prefix}_URL" if env.get(f"{prefix}_URL") else f"{prefix}_HOST", path, url))
    try:
        redis_url = _redis_url_from(env)
    except ValueError as exc:
        raise ConfigError("environment variable REDIS_DB", str(exc)) from None
    if redis_url:
        found.append(("REDIS_URL" if env.get("REDIS_URL") else "REDIS_HOST", "sinks.redis.url", redis_url))
    return found


def apply_override(tables: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at dotted ``path`` in the raw tables (``monitors.fl.url`` sets it on every fl instance)."""
    if path.startswith("server."):  # [server] is the single listener named "server"
        path = "listeners." + path
    head, *rest = path.split(".")
    if head in SECTIONS:
        component, key = rest
        section = tables.get(head, {})
        instances = section.get(component) if isinstance(section, dict) else None
        if isinstance(instances, dict):
            instances = [instances]
            section[component] = instances
        for table in instances or []:
            if isinstance(table, dict):
                merge = isinstance(value, dict) and isinstance(table.get(key), dict)
                table[key] = {**table[key], **value} if merge else value  # a table from the env adds its keys
        return
    target = tables.setdefault(head, {})
    for part in rest[:-1]:
        target = target.setdefault(part, {})
    target[rest[-1]] = value


# -- loading -------------------------------------------------------------------------------------------------------


def find_default() -> Path | None:
    """Return ``$FLCOLLECTOR_CONFIG`` or ``./config/collector.toml`` if it exists, else None (built-in default)."""
    if os.environ.get("FLCOLLECTOR_CONFIG"):
        return Path(os.environ["FLCOLLECTOR_CONFIG"])
    return DEFAULT_PATH if DEFAULT_PATH.exists() else None


def read_toml(path: Path | None) -> tuple[str, dict[str, Any]]:
    """Return ``(label, tables)`` for ``path`` (None: the built-in default); syntax errors give line and column."""
    if path is None:
        return "<built-in default>", tomllib.loads(BUILTIN_DEFAULT)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(label, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(label, f"cannot read the file: {exc}") from None
    try:
        return label, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(label, f"TOML syntax error: {exc}") from None


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
) -> Config:
    """Read, merge and validate a config. ``path=None`` uses :func:`find_default`.

    ``env`` defaults to ``os.environ``; ``overrides`` are dotted paths from the CLI (``agent.data_dir``), applied
    last. Raises :class:`ConfigError`.
    """
    file = Path(path) if path is not None else find_default()
    label, tables = read_toml(file)
    tables = copy.deepcopy(tables)
    for key in tables:
        if key not in TOP_LEVEL:
            raise ConfigError(label, f"unknown table [{key}]", known=list(TOP_LEVEL))
    if "server" in tables:  # [server] is the single listener named "server"
        server = tables.pop("server")
        if not isinstance(server, dict):
            raise ConfigError(label, "[server] must be a table", table="server")
        tables.setdefault("listeners", {})["server"] = [server]
    environ = os.environ if env is None else env
    apply_enables(tables, env_enabled(environ))  # before the overrides, so they configure what they enabled
    for _var, dotted, value in env_overrides(environ):
        apply_override(tables, dotted, value)
    for dotted, value in (overrides or {}).items():
        apply_override(tables, dotted, value)
    agent_table = tables.get("agent", {})
    if not isinstance(agent_table, dict):
        raise ConfigError(label, "[agent] must be a table", table="agent")
    try:
        agent = build_options(AgentSettings, agent_table)
    except OptionError as exc:
        raise ConfigError(label, exc.message, table="agent", key=exc.key, known=exc.known) from None
    if registry is None:
        registry = load_registry(blocked=agent.disable_plugins)
    components = _components(label, tables, registry)
    return Config(file=label, agent=agent, components=components, registry=registry, resolved=tables)


def _components(label: str, tables: dict[str, Any], registry: Registry) -> list[ComponentConfig]:
    out: list[ComponentConfig] = []
    used: set[tuple[str, str]] = set()
    for section, kind in SECTIONS.items():
        entries = tables.get(section, {})
        if not isinstance(entries, dict):
            raise ConfigError(label, f"[{section}] must hold tables like [[{section}.<name>]]", table=section)
        for component, instances in entries.items():
            cls = registry.get(kind, component)
            if cls is None:
                raise ConfigError(label, _unknown(kind, component, registry), table=f"{section}.{component}",
                                  known=registry.names(kind))
            if isinstance(instances, dict):
                instances = [instances]
            if not isinstance(instances, list):
                raise ConfigError(label, "expected a table or an array of tables", table=f"{section}.{component}")
            for index, table in enumerate(instances):
                # [server] is written as its own table (the single listener named "server"): name it so
                base = "server" if (section, component) == ("listeners", "server") else f"{section}.{component}"
                where = base + (f"[{index}]" if len(instances) > 1 else "")
                out.append(_component(label, where, kind, component, cls, table, registry, used))
    return out


def _component(
    label: str, where: str, kind: str, component: str, cls: type, table: Any, registry: Registry,
    used: set[tuple[str, str]],
) -> ComponentConfig:
    if not isinstance(table, dict):
        raise ConfigError(label, "expected a table", table=where)
    common_cls = COMMON_BY_KIND[kind]
    common_keys = option_names(common_cls)
    options_cls: type = cls.Options  # type: ignore[attr-defined]
    known = common_keys + option_names(options_cls)
    common_part = {**getattr(cls, "common_defaults", {}), **{k: v for k, v in table.items() if k in common_keys}}
    own_part = {k: v for k, v in table.items() if k not in common_keys}
    try:
        common = build_options(common_cls, common_part)
        options = build_options(options_cls, own_part)
    except OptionError as exc:
        raise ConfigError(label, exc.message, table=where, key=exc.key, known=known) from None
    instance = common.name or component
    if (kind, instance) in used:
        if common.name:
            raise ConfigError(label, f"instance name {instance!r} is used twice", table=where, key="name")
        number = 2
        while (kind, f"{component}-{number}") in used:
            number += 1
        instance = f"{component}-{number}"
    used.add((kind, instance))
    plugin = registry.owners[(kind, component)]
    return ComponentConfig(kind=kind, component=component, instance=instance, table=where, cls=cls,
                           common=common, options=options, plugin=plugin)


def _unknown(kind: str, component: str, registry: Registry) -> str:
    message = f"unknown {kind} {component!r}"
    blocked = [p.name for p in registry.plugins.values() if p.blocked]
    failed = [f"{p.name} ({p.error})" for p in registry.failed()]
    if component in blocked:
        message += f"; plugin {component!r} is disabled by [agent] disable_plugins"
    if failed:
        message += f"; plugins that failed to import: {', '.join(failed)}"
    return message

