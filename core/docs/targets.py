"""What the docs document: every configurable table (the core's and each component's) by the key that names it in
PLUGINS.md's markers (``agent``, ``monitor``, ``sink``, ``plain``, ``remote``, ``monitors.fl``, ``server``...)."""

from __future__ import annotations

from typing import Any

import attrs

from ..loader import Registry
from ..remote import RemoteOptions
from ..settings import COMMON_BY_KIND, SECTIONS, AgentSettings, MonitorCommon, PlainCommon, SinkCommon
from .entries import Entry, entries

KIND_SECTION = {kind: section for section, kind in SECTIONS.items()}
#: the core's tables: marker key -> (options class, the config path that names their variables)
CORE_TABLES: dict[str, tuple[type, str | None]] = {
    "agent": (AgentSettings, "agent"),
    "monitor": (MonitorCommon, None),
    "sink": (SinkCommon, None),
    "plain": (PlainCommon, None),
    "remote": (RemoteOptions, None),
}


@attrs.frozen
class Component:
    """A configurable component of a plugin: where it is configured and what it accepts."""

    kind: str
    name: str
    plugin: str
    cls: Any

    @property
    def table(self) -> str:
        """Its config table's key: ``monitors.fl``, or ``server`` for the bundled server."""
        if (self.kind, self.name) == ("listener", "server"):
            return "server"
        return f"{KIND_SECTION[self.kind]}.{self.name}"

    @property
    def header(self) -> str:
        """Its TOML header: ``[[monitors.fl]]``, ``[server]``."""
        return "[server]" if self.table == "server" else f"[[{self.table}]]"

    def own(self) -> list[Entry]:
        """Its own options (a remote sink's shared ones are documented once, under ``remote``)."""
        return entries(self.cls.Options, self._path, own_only=issubclass(self.cls.Options, RemoteOptions))

    def remote(self) -> list[Entry]:
        """The options every remote sink has, when it is one."""
        if not issubclass(self.cls.Options, RemoteOptions):
            return []
        inherited = {f.name for f in attrs.fields(RemoteOptions)}
        return [e for e in entries(self.cls.Options, self._path) if e.key in inherited]

    def common(self) -> list[Entry]:
        """The core's keys of its kind, with its own defaults (``common_defaults``, which the sample sets, since
        they differ from the core's) and its name."""
        own: dict[str, Any] = getattr(self.cls, "common_defaults", {})
        found = entries(COMMON_BY_KIND[self.kind], self._path, defaults={"name": self.name, **own})
        return [attrs.evolve(e, default=_parsed(e.default), doc=attrs.evolve(e.doc, set_in_sample=e.key in own))
                for e in found]

    @property
    def _path(self) -> str:
        return self.table


def _parsed(value: Any) -> Any:
    """A ``common_defaults`` value as the options hold it (durations are written as text there)."""
    from ..durations import Duration

    if isinstance(value, str) and value[:1].isdigit():
        try:
            return Duration.parse(value)
        except ValueError:
            return value
    return value


def components(registry: Registry) -> dict[str, Component]:
    """Every built-in configurable component by its table key (``monitors.fl``)."""
    found = {}
    for kind in SECTIONS.values():
        for name, cls in registry.classes.get(kind, {}).items():
            plugin = registry.owners[(kind, name)]
            if registry.plugins[plugin].origin == "built-in":
                component = Component(kind, name, plugin, cls)
                found[component.table] = component
    return found


def table_entries(key: str, registry: Registry) -> list[Entry]:
    """The options a marker key documents; raise KeyError for an unknown key."""
    if key in CORE_TABLES:
        cls, path = CORE_TABLES[key]
        return entries(cls, path)
    return components(registry)[key].own()
