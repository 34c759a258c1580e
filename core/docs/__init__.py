"""Generated documentation: PLUGINS.md's option tables, hook reference and contents, and the commented sample
configs of the built-in plugins, all from the code (each option's ``option_doc`` metadata, the hookspecs).

``python -m flcollector.docs`` rewrites them in a source checkout; ``--check`` only compares and exits 1 naming what
is out of date (the test suite runs the same comparison).
"""

from __future__ import annotations

from pathlib import Path

from ..loader import Registry, load_registry
from . import markdown, samples
from .targets import components

#: the source checkout this package sits in (``core/docs`` -> the repository)
ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python -m flcollector.docs"


def generated(root: Path = ROOT, registry: Registry | None = None) -> dict[Path, str]:
    """Every generated file as it should read: ``{path: text}``."""
    registry = registry or load_registry()
    found = components(registry)
    plugins_md = root / "PLUGINS.md"
    out = {plugins_md: markdown.render(plugins_md.read_text(encoding="utf-8"), registry)}
    for component in found.values():
        path = root / "plugins" / component.plugin / "sample.toml"
        if path not in out:
            out[path] = samples.render(path.read_text(encoding="utf-8"), found)
    return out


def stale(root: Path = ROOT, registry: Registry | None = None) -> list[Path]:
    """The generated files that differ from what the code says."""
    return [path for path, text in generated(root, registry).items() if path.read_text(encoding="utf-8") != text]
