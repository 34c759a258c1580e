"""What container/entrypoint.sh checks before it starts the agent, asked of the agent's own config resolution.

Usage: ``preflight.py CONFIG SOURCE...`` where each SOURCE is ``key|PREFIX|SWITCH`` (``sdn|SDN_CONTROLLER|
NETWORK_MONITOR_ENABLED``). The environment is the one the agent will see (the entrypoint has already resolved it).
Prints one line per problem, nothing when the agent can run; exits 0 either way (the entrypoint turns lines into
exit 2). A config the agent rejects prints nothing here: ``flcollector check`` reports it, with file and line.

Problems found:

* a source that the config enables, but that neither the file nor the environment gives an address;
* a directory the config writes to (every option whose ``option_doc`` says it ``writes`` a file or a directory:
  ``[agent] data_dir``, the sinks' ``directory`` and ``path``, the export directory; a file's directory too) that
  this uid cannot write, or cannot create.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from flcollector.config import DEFAULT_PORTS, Config, load_config
from flcollector.errors import ConfigError
from flcollector.options import DOC_KEY, OptionDoc


def missing_addresses(config: Config, sources: list[str]) -> Iterator[str]:
    """One line for each source the config enables with no ``url`` after the environment was applied."""
    monitors = config.resolved.get("monitors", {})
    for source in sources:
        key, prefix, switch = source.split("|")
        tables = monitors.get(key) if isinstance(monitors, dict) else None
        tables = [tables] if isinstance(tables, dict) else (tables or [])
        if any(isinstance(t, dict) and t.get("enabled", True) is not False and not t.get("url") for t in tables):
            yield (
                f"[[monitors.{key}]] has no address: set {prefix}_URL, or NODE_IP_{prefix} with USE_STATIC_IP=true,"
                f" or {prefix}_HOST (port: {prefix}_PORT, default {DEFAULT_PORTS[prefix]}); or set {switch}=false"
            )


def written_paths(config: Config) -> dict[Path, tuple[bool, list[str]]]:
    """Every directory and file the agent writes to: ``path -> (is_file, config keys that name it)``.

    ``[agent]`` paths are relative to the working directory, components' paths to ``data_dir`` (as the sinks do). A
    sink's ``path`` is a file: its directory is listed too (SQLite writes its journal beside the file).
    """
    data_dir = Path(config.agent.data_dir).expanduser()
    found: dict[Path, tuple[bool, list[str]]] = {}

    def add(value: Any, why: str, *, base: Path | None = None, is_file: bool = False) -> None:
        if isinstance(value, str) and value:
            path = Path(value).expanduser()
            if base is not None and not path.is_absolute():
                path = base / path
            if is_file:
                found.setdefault(path.parent, (False, []))[1].append(why)
            found.setdefault(path, (is_file, []))[1].append(why)

    for field in attrs.fields(type(config.agent)):
        if _writes(field):
            add(getattr(config.agent, field.name), f"[agent] {field.name}")
    for component in config.components:
        if not component.common.enabled or not attrs.has(type(component.options)):
            continue
        for field in attrs.fields(type(component.options)):
            kind = _writes(field)
            if kind is not None:
                add(getattr(component.options, field.name), f"[{component.table}] {field.name}", base=data_dir,
                    is_file=kind == "file")
    return found


def _writes(field: Any) -> str | None:
    """``"file"`` or ``"directory"`` when the option names a place the agent writes (its ``option_doc`` says so)."""
    doc = field.metadata.get(DOC_KEY)
    return doc.writes if isinstance(doc, OptionDoc) else None


def unwritable(path: Path, *, is_file: bool) -> str | None:
    """Why this uid cannot write ``path`` (a directory, created if missing, or a file), or None when it can."""
    if path.exists():
        if path.is_dir() == is_file:
            return "is a directory" if is_file else "is not a directory"
        return None if os.access(path, os.W_OK | (0 if is_file else os.X_OK)) else "is not writable"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot be created ({parent} is not a directory)"
    if os.access(parent, os.W_OK | os.X_OK):
        return None
    return f"does not exist and cannot be created ({parent} is not writable)"


def unwritable_paths(config: Config) -> Iterator[str]:
    """One line for each place the agent would fail to write, naming the uid and the config keys.

    A file inside a directory already reported is not reported again.
    """
    uid, gid = os.getuid(), os.getgid()
    reported: list[Path] = []
    for path, (is_file, reasons) in written_paths(config).items():
        if any(path.is_relative_to(done) for done in reported):
            continue
        problem = unwritable(path, is_file=is_file)
        if problem:
            reported.append(path)
            yield (
                f"{path} ({', '.join(reasons)}) {problem} for uid {uid} (gid {gid}): make it writable for that uid"
                f" (a named volume, or `chown {uid}` on the host directory), or point the config elsewhere"
            )


def main(argv: list[str]) -> int:
    """Print every problem found; see the module docstring."""
    if not argv:
        print("usage: preflight.py CONFIG [key|PREFIX|SWITCH ...]", file=sys.stderr)
        return 2
    try:
        config = load_config(argv[0], env=os.environ)
    except ConfigError:
        return 0  # `flcollector check` reports it, with the file, table and key
    for line in [*missing_addresses(config, argv[1:]), *unwritable_paths(config)]:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
