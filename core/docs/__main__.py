"""``python -m flcollector.docs [--check]``: rewrite the generated docs, or only say which are out of date."""

from __future__ import annotations

import argparse
import sys

from . import COMMAND, ROOT, generated, stale


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` compare) the generated docs; exit 1 when ``--check`` finds one out of date."""
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    if not (ROOT / "PLUGINS.md").exists():
        print(f"{COMMAND}: needs a source checkout (no PLUGINS.md in {ROOT})", file=sys.stderr)
        return 2
    if args.check:
        old = stale()
        for path in old:
            print(f"{path.relative_to(ROOT)} is out of date: run `{COMMAND}`", file=sys.stderr)
        return 1 if old else 0
    for path, text in generated().items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
