"""The hooks a plugin can implement, grouped by lifecycle.

pluggy cannot await, so every hook is synchronous: the ``register_*`` hooks return component classes and the Trio
core instantiates and runs them. No hook is called per record. Arguments may be added in later versions, never
removed (pluggy passes only the arguments an implementation names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .view import AgentView

PROJECT = "flcollector"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- registration: called once at start-up, before the config is resolved -----------------------------------------


@hookspec
def register_monitors() -> list[type]:
    """Return monitor classes (subclasses of ``flcollector.Monitor``) this plugin provides.

    Each class has a unique ``name``; the config enables an instance with ``[[monitors.<name>]]``. The core calls
    ``collect()`` every ``interval``, with ``timeout`` and ``jitter``, backing off while the source is down.
    """
    raise NotImplementedError


@hookspec
def register_listeners() -> list[type]:
    """Return listener classes (subclasses of ``flcollector.Listener``): push inputs that run until stopped.

    Enabled with ``[[listeners.<name>]]``; the bundled HTTP server is the listener ``server`` (``[server]``).
    """
    raise NotImplementedError


@hookspec
def register_processors() -> list[type]:
    """Return processor classes (subclasses of ``flcollector.Processor``): sync batch transforms.

    Enabled with ``[[processors.<name>]]``, applied in config order between the inputs and the sinks.
    """
    raise NotImplementedError


@hookspec
def register_sinks() -> list[type]:
    """Return sink classes (subclasses of ``flcollector.Sink``); a sink that also answers queries is a store.

    Enabled with ``[[sinks.<name>]]``; the core gives each sink its own bounded buffer and batcher.
    """
    raise NotImplementedError


@hookspec
def register_exporters() -> list[type]:
    """Return exporter classes (subclasses of ``flcollector.Exporter``) that turn query results into files."""
    raise NotImplementedError


@hookspec
def register_routes(agent: AgentView) -> list[Any]:
    """Return Starlette ``Route``/``WebSocketRoute``/``Mount`` objects to add to the bundled server's app.

    Called once when the server starts, after every sink opened; ``agent`` gives the store, the open components
    (``agent.find("sink", "cache")``), stats and run context. A handler reads it back from its request with
    ``flcollector.agent_of(request)``. The server's own routes come first: a path it serves cannot be taken over.
    """
    raise NotImplementedError


# -- lifecycle -----------------------------------------------------------------------------------------------------


@hookspec
def startup(agent: AgentView) -> None:
    """Called once after every component is open and before the monitors start; must not block."""


@hookspec
def shutdown(agent: AgentView) -> None:
    """Called once after the monitors stopped and every sink flushed; must not block."""


HOOKS: tuple[str, ...] = (
    "register_monitors", "register_listeners", "register_processors", "register_sinks",
    "register_exporters", "register_routes", "startup", "shutdown",
)
