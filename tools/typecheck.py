"""Type-check the core and every plugin as one package, ``flcollector``, as plugins import it.

The source tree installs ``core/`` as ``flcollector`` and ``plugins/`` as ``flcollector.plugins`` (setup.py); the
editable install finds them with an import hook that mypy cannot follow, so ``mypy plugins`` sees every
``from flcollector import ...`` as ``Any`` and checks nothing a plugin does with the core. This script lays the
package out as it is installed, with symbolic links under ``build/typecheck/`` (made anew on every run), and runs
mypy on it with the project's settings (pyproject.toml), plus any extra files given (the container's scripts).
Its report names the source files (``core/...``, ``plugins/...``).

    .venv/bin/python tools/typecheck.py [FILE...]
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "build" / "typecheck"


def lay_out() -> Path:
    """``build/typecheck/flcollector``: a link per entry of ``core/``, and ``plugins`` linked to ``plugins/``."""
    shutil.rmtree(TREE, ignore_errors=True)
    package = TREE / "flcollector"
    package.mkdir(parents=True)
    for entry in (ROOT / "core").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "plugins").symlink_to(ROOT / "plugins")
    return package


def main(argv: list[str]) -> int:
    """Run mypy over the laid-out package and ``argv``'s files; print its report with the source paths."""
    package = lay_out()
    os.environ["MYPYPATH"] = str(TREE)
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), str(package), *argv])
    for text, stream in ((stdout, sys.stdout), (stderr, sys.stderr)):
        for prefix in (f"{package}/", f"{os.path.relpath(package)}/"):
            text = text.replace(f"{prefix}plugins/", "plugins/").replace(prefix, "core/")
        stream.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
