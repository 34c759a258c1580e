"""Loading plugins: the ``flcollector`` entry-point group, blocking, and the registry of component classes."""

from __future__ import annotations

import importlib.metadata as md
import logging
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError

log = logging.getLogger("flcollector.loader")

ENTRY_POINT_GROUP = "flcollector"

#: hook name -> component kind it registers
REGISTER_HOOKS = {
    "register_monitors": "monitor",
    "register_listeners": "listener",
    "register_processors": "processor",
    "register_sinks": "sink",
    "register_exporters": "exporter",
}


@attrs.define
class PluginInfo:
    """Where a plugin comes from and what it provides."""

    name: str
    origin: str  # "built-in", or "<distribution> <version>", or "in-process"
    module: str
    components: dict[str, list[str]] = attrs.field(factory=dict)  # kind -> names
    error: str | None = None  # import error, if it failed to load
    blocked: bool = False


@attrs.define
class Registry:
    """Component classes by kind and name, and the plugins they came from."""

    classes: dict[str, dict[str, type]] = attrs.field(factory=dict)  # kind -> name -> class
    owners: dict[tuple[str, str], str] = attrs.field(factory=dict)  # (kind, name) -> plugin name
    plugins: dict[str, PluginInfo] = attrs.field(factory=dict)
    pm: pluggy.PluginManager | None = None

    def get(self, kind: str, name: str) -> type | None:
        """Return the class registered for ``kind``/``name``, or None."""
        return self.classes.get(kind, {}).get(name)

    def names(self, kind: str) -> list[str]:
        """Return the sorted component names of ``kind``."""
        return sorted(self.classes.get(kind, {}))

    def failed(self) -> list[PluginInfo]:
        """Return the plugins whose import failed."""
        return [p for p in self.plugins.values() if p.error]


def new_plugin_manager() -> pluggy.PluginManager:
    """Return a plugin manager with flcollector's hookspecs added."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _origin(ep: md.EntryPoint) -> str:
    dist = ep.dist
    if dist is None:
        return "unknown"
    if dist.metadata["Name"] == "flcollector":
        return "built-in"
    return f"{dist.metadata['Name']} {dist.version}"


def load_registry(
    blocked: Iterable[str] = (), extra: Iterable[tuple[str, ModuleType | object]] = ()
) -> Registry:
    """Load every plugin of the ``flcollector`` entry-point group (plus ``extra`` in-process ones).

    A plugin named in ``blocked`` is listed but not loaded. A plugin whose import fails is recorded with its error
    and skipped (the agent goes on; a config that uses its components then fails, naming this error). A component
    name provided by two plugins raises :class:`PluginError` naming both.
    """
    blocked = set(blocked)
    pm = new_plugin_manager()
    registry = Registry(pm=pm)
    eps = sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    for ep in eps:
        info = PluginInfo(name=ep.name, origin=_origin(ep), module=ep.value)
        registry.plugins[ep.name] = info
        if ep.name in blocked:
            info.blocked = True
            pm.set_blocked(ep.name)
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time failure of one plugin must not stop the others
            info.error = f"{type(exc).__name__}: {exc}"
            log.error("plugin %r (%s) failed to import: %s", ep.name, ep.value, info.error)
            continue
        pm.register(plugin, name=ep.name)
    for name, plugin in extra:
        module = getattr(plugin, "__name__", type(plugin).__name__)
        registry.plugins[name] = PluginInfo(name=name, origin="in-process", module=module)
        if name in blocked:
            registry.plugins[name].blocked = True
            continue
        pm.register(plugin, name=name)
    pm.check_pending()  # a misspelled hookimpl fails here, at start
    for hook_name, kind in REGISTER_HOOKS.items():
        caller = getattr(pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            classes = _call_register(impl, hook_name)
            for cls in classes:
                _add(registry, kind, cls, impl.plugin_name)
    for impl in pm.hook.register_routes.get_hookimpls():  # routes are made when the server starts; say who adds some
        provider = registry.plugins.get(impl.plugin_name)
        if provider is not None:
            provider.components.setdefault("routes", ["register_routes"])
    return registry


def _call_register(impl: Any, hook_name: str) -> list[type]:
    try:
        result = impl.function()
    except Exception as exc:
        raise PluginError(f"plugin {impl.plugin_name!r}: {hook_name}() raised {type(exc).__name__}: {exc}") from exc
    return list(result or [])


def _add(registry: Registry, kind: str, cls: type, plugin: str) -> None:
    name = getattr(cls, "name", "")
    if not name:
        raise PluginError(f"plugin {plugin!r}: {cls.__qualname__} has no 'name'")
    owner = registry.owners.get((kind, name))
    if owner is not None:
        raise PluginError(f"{kind} {name!r} is provided twice: by plugin {owner!r} and by plugin {plugin!r}")
    registry.classes.setdefault(kind, {})[name] = cls
    registry.owners[(kind, name)] = plugin
    info = registry.plugins.get(plugin)
    if info is not None:
        info.components.setdefault(kind, []).append(name)
